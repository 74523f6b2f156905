import type {
  JetStreamClient,
  JetStreamPublishOptions,
  PubAck,
  StreamExpectations,
} from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { injectTraceContext } from '@orchestra/observability';
import { encode } from './codec.js';

export { decode, decodeText, encode } from './codec.js';

export interface PublishJsonOptions {
  /** Deduplication id: a repeat within the stream's duplicate window is stored once. */
  msgID?: string;
  /** Server-checked preconditions, e.g. `{ lastSubjectSequence }` for optimistic concurrency. */
  expect?: Partial<StreamExpectations>;
  headers?: MsgHdrs | Record<string, string>;
  /** Milliseconds to wait for the PubAck. */
  timeout?: number;
}

/**
 * Publishes `payload` as JSON (bytes: already encoded JSON) to a subject captured by a stream;
 * resolves once it is stored.
 * The active trace context (the span of the message being handled) goes along in the headers.
 */
export function publishJson(
  js: JetStreamClient,
  subject: string,
  payload: unknown,
  options: PublishJsonOptions = {},
): Promise<PubAck> {
  const opts: Partial<JetStreamPublishOptions> = {};
  if (options.msgID !== undefined) opts.msgID = options.msgID;
  if (options.expect !== undefined) opts.expect = options.expect;
  if (options.timeout !== undefined) opts.timeout = options.timeout;
  const headers = injectTraceContext(options.headers === undefined ? undefined : toHeaders(options.headers));
  if (headers !== undefined) opts.headers = headers;
  return js.publish(subject, payload instanceof Uint8Array ? payload : encode(payload), opts);
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
