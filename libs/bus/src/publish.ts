import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamPublishOptions,
  type PubAck,
  type StreamExpectations,
} from '@nats-io/jetstream';
import { headers as createHeaders, errors, type MsgHdrs, RequestError } from '@nats-io/transport-node';
import { injectTraceContext } from '@orchestra/observability';
import { claimIfLarge, releaseClaim } from './claim.js';
import { encode } from './codec.js';

export { decode, decodeText, encode } from './codec.js';

export interface PublishJsonOptions {
  /** Deduplication id: a repeat within the stream's duplicate window is stored once. */
  msgID?: string;
  /** Server-checked preconditions, e.g. `{ lastSubjectSequence }` for optimistic concurrency. */
  expect?: Partial<StreamExpectations>;
  headers?: MsgHdrs | Record<string, string>;
  /** Milliseconds to keep trying while the stream has no leader (an election) or the ack is late. Default 30 s. */
  timeout?: number;
}

/**
 * How long one try waits for its PubAck. Short, because during a leader election the request
 * goes unanswered: retrying every couple of seconds finds the new leader within that long of its
 * election (docs/reliability.md, "What a client sees during a leader election"), where nats.js's
 * one 5 s request and the consumer's doubling redelivery delays stalled an execution up to 29 s.
 */
export const PUBLISH_TRY_TIMEOUT_MS = 2_000;
const DEFAULT_PUBLISH_BUDGET_MS = 30_000;
/** Pause after a try the server could not answer at once (no responders: no leader yet). */
const RETRY_PAUSE_MS = 150;

interface Connected {
  nc?: { isClosed(): boolean };
}

/**
 * Publishes `payload` as JSON (bytes: already encoded JSON) to a subject captured by a stream;
 * resolves once it is stored. A payload larger than one message goes through the payloads
 * bucket (see claim.ts) and the message carries a reference to it. While the stream cannot
 * answer (a leader election, a server restart) it tries again every couple of seconds for up to
 * `timeout` ms; a repeat is harmless, because every stored message Orchestra relies on carries a
 * message id or an expected sequence.
 * The active trace context (the span of the message being handled) goes along in the headers.
 */
export async function publishJson(
  js: JetStreamClient,
  subject: string,
  payload: unknown,
  options: PublishJsonOptions = {},
): Promise<PubAck> {
  const opts: Partial<JetStreamPublishOptions> = { timeout: PUBLISH_TRY_TIMEOUT_MS };
  if (options.msgID !== undefined) opts.msgID = options.msgID;
  if (options.expect !== undefined) opts.expect = options.expect;
  const headers = injectTraceContext(options.headers === undefined ? undefined : toHeaders(options.headers));
  if (headers !== undefined) opts.headers = headers;
  const bytes = payload instanceof Uint8Array ? payload : encode(payload);
  const claim = await claimIfLarge(js, bytes, subject, `the message on ${subject}`);
  try {
    return await publishWhileUnavailable(
      js,
      subject,
      claim.data,
      opts,
      options.timeout ?? DEFAULT_PUBLISH_BUDGET_MS,
    );
  } catch (error) {
    // Refused (not merely unanswered): nobody will ever read the copy.
    if (claim.claimed !== undefined && !isUnavailable(error)) void releaseClaim(js, claim.claimed);
    throw error;
  }
}

async function publishWhileUnavailable(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  opts: Partial<JetStreamPublishOptions>,
  budgetMs: number,
): Promise<PubAck> {
  const giveUpAt = Date.now() + budgetMs;
  for (;;) {
    const remaining = giveUpAt - Date.now();
    try {
      return await js.publish(subject, data, {
        ...opts,
        timeout: Math.max(100, Math.min(opts.timeout ?? PUBLISH_TRY_TIMEOUT_MS, remaining)),
      });
    } catch (error) {
      const closed = (js as Connected).nc?.isClosed() ?? false;
      if (!isUnavailable(error) || closed || Date.now() + RETRY_PAUSE_MS >= giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

/**
 * The stream could not answer: no responders (its leader is being elected, JetStream restarting)
 * or no answer in time. Anything else (a refused expectation, a permission) is final.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof errors.TimeoutError) return true;
  // nats.js's name for "no responders" on a JetStream request (its class is not exported).
  if (error instanceof Error && error.name === 'JetStreamNotEnabled') return true;
  if (error instanceof RequestError) return error.isNoResponders();
  // "JetStream system temporarily unavailable", "stream is offline": a cluster without quorum yet.
  if (error instanceof JetStreamApiError) return error.status === 503;
  if (error instanceof Error && error.cause !== undefined && error.cause !== error)
    return isUnavailable(error.cause);
  return false;
}

export function toHeaders(value: MsgHdrs | Record<string, string>): MsgHdrs {
  if (isMsgHdrs(value)) return value;
  const hdrs = createHeaders();
  for (const [key, v] of Object.entries(value)) hdrs.set(key, v);
  return hdrs;
}

function isMsgHdrs(value: MsgHdrs | Record<string, string>): value is MsgHdrs {
  return typeof (value as MsgHdrs).get === 'function' && typeof (value as MsgHdrs).set === 'function';
}
