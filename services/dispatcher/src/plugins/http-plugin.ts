import { createHmac } from 'node:crypto';
import { type DispatchTask, type JsonValue, LIMITS, MessageIds } from '@orchestra/contracts';
import type { Plugin, PluginContext } from '../plugin.js';
import type { HttpPluginConfig } from './config.js';
import {
  excerpt,
  honouringRetryAfter,
  retryAfterMs,
  statusError,
  UpstreamCodes,
  UpstreamError,
} from './upstream.js';

/** Headers of every request of an http plugin (README, Plugins, "HTTP plugins"). */
export const HttpPluginHeaders = {
  /** `sha256=<hex HMAC-SHA256 of the exact body, keyed with the plugin's secret>`. */
  signature: 'Orchestra-Signature',
  /** The command's message id, `execution:task:attempt`: the same for a redelivered command. */
  idempotencyKey: 'Idempotency-Key',
} as const;

/** `sha256=<hex>`: what a service recomputes over the raw body it received to trust it. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * An `http` plugin: POSTs the DispatchTask as JSON to the configured URL; a 2xx JSON body is the
 * output. 4xx (but 408/429) fails the attempt as non-retryable; 5xx, 408, 429, timeouts and
 * connection errors as retryable, after waiting out a `Retry-After` the deadline allows.
 */
export function httpPlugin(config: HttpPluginConfig, secret: string | undefined): Plugin {
  return {
    name: config.name,
    kind: 'http',
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    run: (task, ctx) =>
      honouringRetryAfter(() => post(config, secret, task, ctx), {
        signal: ctx.signal,
        deadlineAt: task.deadline_at,
      }),
  };
}

async function post(
  config: HttpPluginConfig,
  secret: string | undefined,
  task: DispatchTask,
  ctx: PluginContext,
): Promise<JsonValue> {
  const body = JSON.stringify(task);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    [HttpPluginHeaders.idempotencyKey]: MessageIds.dispatch(
      task.execution_id,
      task.task_id,
      task.attempt_number,
    ),
  };
  if (secret) headers[HttpPluginHeaders.signature] = signatureOf(body, secret);
  const timeout = config.timeout_ms ? AbortSignal.timeout(config.timeout_ms) : undefined;
  const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
  try {
    const response = await fetch(config.url, { method: 'POST', headers, body, signal, redirect: 'error' });
    const text = await readCapped(response);
    if (response.status < 200 || response.status > 299) {
      throw statusError(response.status, excerpt(text), retryAfterMs(response.headers));
    }
    return parseBody(text, response.headers.get('content-type'));
  } catch (error) {
    if (ctx.signal.aborted || error instanceof UpstreamError) throw error;
    if (timeout?.aborted) {
      throw new UpstreamError(
        `no answer from ${config.url} within ${config.timeout_ms} ms`,
        UpstreamCodes.timeout,
      );
    }
    throw new UpstreamError(`request to ${config.url} failed: ${describe(error)}`, UpstreamCodes.connection, {
      cause: error,
    });
  }
}

function parseBody(text: string, contentType: string | null): JsonValue {
  if (text.trim() === '')
    throw new UpstreamError('the service answered 2xx with an empty body', UpstreamCodes.emptyReply);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UpstreamError(
      `the service's answer is not JSON (content-type ${contentType ?? 'none'}): ${excerpt(text, 120)}`,
      UpstreamCodes.badResponse,
    );
  }
}

/** The body as text, refusing one longer than the output limit before it is all in memory. */
async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    if (bytes > LIMITS.outputBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new UpstreamError(
        `the service's answer is over ${LIMITS.outputBytes} bytes (the output limit)`,
        'OUTPUT_TOO_LARGE',
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** fetch says only "fetch failed": the reason (ECONNREFUSED, socket closed) is in its cause. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const raw = (error as { message?: unknown } | undefined)?.message;
  const base = typeof raw === 'string' ? raw : String(error);
  return cause ? `${base} (${cause.code ?? cause.message ?? 'unknown cause'})` : base;
}
