import { LIMITS, type TaskUsage } from '@orchestra/contracts';
import { z } from 'zod';
import type { AgentPluginConfig } from '../config.js';
import { excerpt, retryAfterMs, statusError, UpstreamCodes, UpstreamError } from '../upstream.js';

/** One call to a model, whichever the provider. */
export interface ModelRequest {
  system: string | undefined;
  prompt: string;
  /** The reply must match it: asked of the API when the plugin's json_request is `api`. */
  schema: Record<string, unknown> | undefined;
  signal: AbortSignal;
}

export interface ModelReply {
  text: string;
  usage: TaskUsage;
}

/** The provider behind an agent plugin. Throws UpstreamError for every failure it can name. */
export interface ModelClient {
  readonly model: string;
  complete(request: ModelRequest): Promise<ModelReply>;
}

/**
 * A response body as the provider's schema says it is: the SDKs hand back whatever the server
 * sent (an HTML page on a 200 becomes a string), so what is read from it is checked first.
 */
export function parseReply<T>(schema: z.ZodType<T>, body: unknown, provider: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const shown =
    typeof body === 'string' ? excerpt(body, 120) : excerpt(JSON.stringify(body) ?? String(body), 120);
  const where = parsed.error.issues[0]?.path.join('.') || '(root)';
  throw new UpstreamError(
    `the ${provider} answer does not have the expected shape (at ${where}): ${shown}`,
    UpstreamCodes.badResponse,
  );
}

/** The error classes an official SDK throws (both SDKs come from one generator and share them). */
export interface SdkErrors {
  APIError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
}

/**
 * An SDK's error as a failed attempt: an abort of our signal is rethrown as is (the caller tells
 * cancel and deadline from timeout_ms); the SDK's own timeout, a failed connection, an HTTP
 * status, and a 2xx body that is not JSON (the SDK's JSON parser throws) each get their code.
 */
export function sdkFailure(error: unknown, provider: string, sdk: SdkErrors): unknown {
  if (error instanceof UpstreamError || error instanceof sdk.APIUserAbortError) return error;
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new UpstreamError(`no answer from ${provider} in time`, UpstreamCodes.timeout);
  }
  if (error instanceof sdk.APIConnectionError) {
    return new UpstreamError(`could not reach ${provider}: ${causeOf(error)}`, UpstreamCodes.connection);
  }
  if (error instanceof sdk.APIError) {
    const {
      status,
      headers,
      error: body,
    } = error as Error & {
      status?: number;
      headers?: { get(name: string): string | null };
      error?: unknown;
    };
    if (typeof status === 'number') return statusError(status, messageOf(body, error), retryAfterMs(headers));
  }
  // Compared by name: the JSON parser's SyntaxError may come from another realm than this module.
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = String((error as { message?: unknown } | undefined)?.message ?? error);
  if (name === 'SyntaxError') {
    return new UpstreamError(
      `the ${provider} answer is not valid JSON: ${message}`,
      UpstreamCodes.badResponse,
    );
  }
  return new UpstreamError(`${provider}: ${message}`, 'UPSTREAM_ERROR', { cause: error });
}

/** `{ error: { message } }` (both providers), else the SDK's own message. */
function messageOf(body: unknown, error: Error): string {
  const nested = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const flat = (body as { message?: unknown } | undefined)?.message;
  const message = typeof nested === 'string' ? nested : typeof flat === 'string' ? flat : error.message;
  return excerpt(message);
}

function causeOf(error: Error): string {
  const cause = error.cause as { code?: string; message?: string; cause?: { code?: string } } | undefined;
  return cause?.code ?? cause?.cause?.code ?? cause?.message ?? error.message;
}

export const TokenCount = z.number().int().min(0);

/**
 * What both SDK clients are built with. Their own retries are off: retries belong to the attempt
 * (Retry-After, honouringRetryAfter) and to the plan (retries, fallback); an SDK retrying on its
 * own would call the model again past what the plan allows. Their timeout never decides:
 * timeout_ms, the deadline and cancel abort the call (agent-plugin.ts). Their logging is off, so
 * nothing of a request (its key) reaches the console.
 */
export function sdkOptions(config: AgentPluginConfig, apiKey: string | undefined, defaultBaseUrl: string) {
  return {
    apiKey: apiKey ?? 'not-needed',
    baseURL: config.base_url ?? defaultBaseUrl,
    maxRetries: 0,
    timeout: LIMITS.timeoutMs,
    logLevel: 'off' as const,
  };
}
