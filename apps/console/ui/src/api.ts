import type { ApiError, SessionInfo } from '../../src/model/api-types';

/** Thrown for a response that is not 2xx: the server's message, and issues with paths if any. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError['error'],
  ) {
    super(body.message);
  }
}

let session: Promise<SessionInfo> | undefined;

/** The CSRF token, capabilities and CLI prefix, read once per page load. */
export function loadSession(): Promise<SessionInfo> {
  session ??= getJson<SessionInfo>('/api/session').catch((error) => {
    session = undefined;
    throw error;
  });
  return session;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    signal,
  });
  return readResponse<T>(response);
}

/** Every action is a POST with a JSON body and the CSRF token. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const { csrf_token } = await loadSession();
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf_token },
    body: JSON.stringify(body),
  });
  return readResponse<T>(response);
}

async function readResponse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = (json as Partial<ApiError> | null)?.error;
    throw new RequestError(response.status, {
      code: error?.code ?? String(response.status),
      message: error?.message ?? (json as { message?: string } | null)?.message ?? response.statusText,
      ...(error?.issues ? { issues: error.issues } : {}),
    });
  }
  return json as T;
}
