import { setTimeout as sleep } from 'node:timers/promises';
import { PluginError } from '../plugin.js';

/**
 * What agent and http plugins share about the service they call: how an HTTP answer becomes a
 * failed attempt (README, Plugins, "Failures"), and waiting out `Retry-After` inside an attempt.
 */
export const UpstreamCodes = {
  /** Nothing listened, the connection was reset or closed mid-answer. Retryable. */
  connection: 'CONNECTION_FAILED',
  /** The plugin's `timeout_ms` passed before the answer. Retryable. */
  timeout: 'UPSTREAM_TIMEOUT',
  /** A 2xx whose body is not what the protocol promises (HTML, malformed JSON). Retryable. */
  badResponse: 'BAD_RESPONSE',
  /** A 2xx with nothing in it (no body, or a model reply with no text). Retryable. */
  emptyReply: 'EMPTY_REPLY',
} as const;

/** A failed call to a model or service: `HTTP_<status>` or one of UpstreamCodes. */
export class UpstreamError extends PluginError {
  constructor(
    message: string,
    code: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, code, options);
    this.name = 'UpstreamError';
    this.retryAfterMs = options.retryAfterMs;
  }

  /** From the answer's `Retry-After` (429 and 5xx only). */
  readonly retryAfterMs: number | undefined;
}

/**
 * An HTTP error status as a failed attempt. 408, 429 and 5xx may pass with time: retryable, and
 * 429/5xx keep the server's `Retry-After`. Any other 4xx says the request itself is refused
 * (bad request, bad credentials, no such model or route): retrying the same plugin cannot help.
 */
export function statusError(status: number, detail: string, retryAfterMs?: number): UpstreamError {
  const passing = status === 408 || status === 429 || status >= 500;
  const text = detail.trim() === '' ? '' : `: ${detail}`;
  return new UpstreamError(`HTTP ${status}${text}`, `HTTP_${status}`, {
    retryable: passing,
    ...(passing && status !== 408 && retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

interface HeaderSource {
  get(name: string): string | null;
}

/** `retry-after-ms` (OpenAI's and Anthropic's servers send it), else `Retry-After` in seconds or as a date. */
export function retryAfterMs(headers: HeaderSource | undefined, now = Date.now()): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return Math.ceil(millis);
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RetryAfterOptions {
  signal: AbortSignal;
  /** The attempt's deadline (epoch ms): a wait that would reach it is not started. */
  deadlineAt: number;
  now?: () => number;
  /** Waits in one attempt at most (a server answering `Retry-After: 0` forever). */
  maxWaits?: number;
}

/**
 * Calls `request` again after each retryable failure that carries a `Retry-After`, while the
 * wait ends before the attempt's deadline; otherwise the failure fails the attempt (still
 * retryable: the orchestrator's retries and backoff take over).
 */
export async function honouringRetryAfter<T>(
  request: () => Promise<T>,
  options: RetryAfterOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  const maxWaits = options.maxWaits ?? 5;
  for (let waits = 0; ; waits++) {
    try {
      return await request();
    } catch (error) {
      const wait = error instanceof UpstreamError && error.retryable ? error.retryAfterMs : undefined;
      if (wait === undefined || waits >= maxWaits || now() + wait >= options.deadlineAt) throw error;
      await sleep(wait, undefined, { signal: options.signal });
    }
  }
}

/** A short, printable piece of an answer's body for an error message. */
export function excerpt(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Replaces every occurrence of the given secrets (keys, HMAC secrets) in a text. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const present = [...new Set(secrets.filter((secret) => secret.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  if (present.length === 0) return (text) => text;
  return (text) => present.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}
