import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type OrderedConsumerOptions,
  type StoredMsg,
} from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import {
  ConcurrencyError,
  EventRecord,
  ExecutionEvent,
  formatPath,
  type Issue,
  Streams,
  Subjects,
  ValidationError,
} from '@orchestra/contracts';
import { AuditHeaders, GENESIS, type RecordSigner, recordHash } from './audit.js';
import { type AuditRecord, auditFieldsOf } from './audit-chain.js';
import { resolveClaim } from './claim.js';
import { decodeText } from './codec.js';
import { publishJson } from './publish.js';

/**
 * The event store: every event of one execution on `orchestra.events.<execution_id>`, in order,
 * appended with the expected last subject sequence so that two writers cannot diverge.
 */

export interface AppendOptions {
  /** A message id per record (deduplicates a re-append after a crash); undefined for none. */
  msgId?: (recordIndex: number) => string | undefined;
  /** Milliseconds to wait for each PubAck. */
  timeout?: number;
  /** The largest record to publish (the server's max_payload less room for headers). */
  maxRecordBytes?: number;
  /**
   * The hash chain (docs/audit.md): the hash of the execution's last record (GENESIS for a new
   * one) and the key that signs each new head. Every record carries its link and hash in headers.
   */
  chain?: { prev: string; signer?: RecordSigner | undefined };
}

export interface AppendResult {
  /** Stream sequence of the last record appended. */
  seq: number;
  /** Hash of the last record appended: the chain's new head. */
  head: string;
}

/** Room left for headers (msg id, expected sequence, trace context) under max_payload. */
const HEADER_ROOM_BYTES = 4 * 1024;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The largest record a connection's server takes. */
export function maxRecordBytes(connection: { info?: { max_payload: number } | undefined }): number {
  return (connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM_BYTES;
}

/**
 * Appends the events of one decision as records (JSON arrays of events, see `EventRecord`): as
 * few as fit in max_payload, usually one. The first record must find the subject at
 * `expectedLastSubjectSequence` (0 = no event yet), each next one the sequence of the previous.
 * One record is one round trip however many events it holds; without atomic batches
 * (nats-server 2.9) a conflict on a later record of a split decision leaves the earlier ones
 * stored: the caller re-reads and re-decides from what is really there. Returns the last sequence.
 */
export async function appendEvents(
  js: JetStreamClient,
  executionId: string,
  events: readonly ExecutionEvent[],
  expectedLastSubjectSequence: number,
  options: AppendOptions = {},
): Promise<number> {
  return (await appendEventRecords(js, executionId, events, expectedLastSubjectSequence, options)).seq;
}

/** appendEvents, also giving the chain's new head. */
export async function appendEventRecords(
  js: JetStreamClient,
  executionId: string,
  events: readonly ExecutionEvent[],
  expectedLastSubjectSequence: number,
  options: AppendOptions = {},
): Promise<AppendResult> {
  const subject = Subjects.events(executionId);
  let head = options.chain?.prev ?? GENESIS;
  for (const [index, event] of events.entries()) checkEvent(executionId, event, index);
  const records = splitIntoRecords(events, options.maxRecordBytes ?? DEFAULT_MAX_PAYLOAD - HEADER_ROOM_BYTES);
  let expected = expectedLastSubjectSequence;
  for (const [recordIndex, record] of records.entries()) {
    // By default the message id names the position the record claims. On a clustered 2.9 stream
    // the expected-sequence check alone can let two writers claim it (nats-server #4320); the
    // dedupe of the id cannot, so a duplicate is a conflict too.
    const msgID = options.msgId ? options.msgId(recordIndex) : `${executionId}:${expected}`;
    const described = `events ${record.first}..${record.first + record.count - 1} of ${events.length}`;
    const hash = recordHash(head, executionId, record.bytes);
    try {
      const ack = await publishJson(js, subject, record.bytes, {
        expect: { lastSubjectSequence: expected },
        ...(msgID === undefined ? {} : { msgID }),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
        ...(options.chain ? { headers: chainHeaders(head, hash, options.chain.signer) } : {}),
      });
      if (ack.duplicate && !options.msgId) {
        throw new ConcurrencyError(
          `execution ${executionId}: position after sequence ${expected} was already taken ` +
            `(${record.first} of ${events.length} events appended before the conflict)`,
        );
      }
      expected = ack.seq;
      head = hash;
    } catch (err) {
      if (isOverMaxPayload(err)) {
        // Retrying cannot help: the event must shrink or the server's max_payload grow.
        const event = events[record.first];
        throw new ValidationError(
          `event ${record.first} (${event?.type}) of execution ${executionId} is larger than the server's max_payload`,
          [{ path: `events[${record.first}]`, message: 'larger than the server accepts in one message' }],
          { cause: err },
        );
      }
      if (isWrongLastSequence(err)) {
        throw new ConcurrencyError(
          `execution ${executionId} moved past sequence ${expected}: ${described} not appended ` +
            `(${record.first} appended before the conflict)`,
          { cause: err },
        );
      }
      throw err;
    }
  }
  return { seq: expected, head };
}

function chainHeaders(prev: string, hash: string, signer: RecordSigner | undefined): Record<string, string> {
  const headers: Record<string, string> = { [AuditHeaders.prev]: prev, [AuditHeaders.hash]: hash };
  if (signer) {
    headers[AuditHeaders.signature] = signer.sign(hash);
    headers[AuditHeaders.key] = signer.keyId;
  }
  return headers;
}

interface EncodedRecord {
  /** Index of the record's first event in the decision. */
  first: number;
  count: number;
  bytes: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Groups events, in order, into JSON arrays of at most `maxBytes` each. Each event is stringified
 * once; an event larger than `maxBytes` on its own gets a record of its own (the server refuses
 * it, with a clear error above).
 */
export function splitIntoRecords(events: readonly ExecutionEvent[], maxBytes: number): EncodedRecord[] {
  const records: EncodedRecord[] = [];
  let parts: string[] = [];
  let first = 0;
  let size = 2; // the brackets
  const flush = () => {
    if (parts.length === 0) return;
    records.push({ first, count: parts.length, bytes: utf8.encode(`[${parts.join(',')}]`) });
    first += parts.length;
    parts = [];
    size = 2;
  };
  for (const event of events) {
    const text = JSON.stringify(event);
    const bytes = Buffer.byteLength(text);
    if (parts.length > 0 && size + 1 + bytes > maxBytes) flush();
    size += (parts.length > 0 ? 1 : 0) + bytes;
    parts.push(text);
  }
  flush();
  return records;
}

function isOverMaxPayload(err: unknown): boolean {
  return err instanceof errors.InvalidArgumentError && err.message.includes('max_payload');
}

export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Only what types cannot promise: the events are the decider's (typed, and a property test holds
 * them to the schemas), and every reader validates what it reads (docs/performance.md, "validate
 * once"), so they are not parsed again on the way out.
 */
function checkEvent(executionId: string, event: ExecutionEvent, index: number): void {
  if (event.execution_id !== executionId) {
    throw new ValidationError(
      `event ${index} belongs to execution ${event.execution_id}, not ${executionId}`,
      [{ path: 'execution_id', message: `must be ${executionId}` }],
    );
  }
}

export interface StoredEvent {
  seq: number;
  event: ExecutionEvent;
}

/** A stored message that is not a valid event: reported, never silently dropped. */
export interface InvalidStoredEvent {
  seq: number;
  reason: string;
  issues: Issue[];
}

export interface ReadEventsResult {
  events: StoredEvent[];
  invalid: InvalidStoredEvent[];
  /** Stream sequence of the last message read on the subject (0 when there is none). */
  lastSeq: number;
  /** The hash chain's head: the last record's hash (GENESIS when none, or it carries none). */
  head: string;
}

export interface ReadEventsOptions {
  /** Read from this stream sequence on (inclusive). Default: from the first event. */
  fromSeq?: number;
  /** Give up when no message arrives for this long while more are known to exist. Default 10 s. */
  idleTimeoutMs?: number;
}

/**
 * Reads one execution's events. The last sequence is looked up first, so an unknown execution
 * costs one request, and the ordered consumer stops as soon as it reaches that sequence.
 */
export async function readEvents(
  jsOrJsm: JetStreamClient | JetStreamManager,
  executionId: string,
  options: ReadEventsOptions = {},
): Promise<ReadEventsResult> {
  const result: ReadEventsResult = { events: [], invalid: [], lastSeq: 0, head: GENESIS };
  const last = await forEachRecord(jsOrJsm, executionId, options, (msg, js) => collect(js, result, msg));
  if (last && result.lastSeq < last.seq) {
    // Nothing after fromSeq: the log ends where it was.
    result.lastSeq = last.seq;
    result.head = last.header?.get(AuditHeaders.hash) || GENESIS;
  }
  return result;
}

/** Every record of one execution as stored, with its audit headers, in stream order (docs/audit.md). */
export async function readAuditRecords(
  jsOrJsm: JetStreamClient | JetStreamManager,
  executionId: string,
): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  // A record stored through the object store is chained by its own bytes, not its reference's.
  await forEachRecord(jsOrJsm, executionId, {}, async (msg, js) => {
    const payload = decodeText(await resolveClaim(js, msg.data));
    records.push({ seq: msg.seq, payload, ...auditFieldsOf(msg.headers) });
  });
  return records;
}

/**
 * Hands each stored record of one execution from `fromSeq` on to `each`, in order. The last
 * sequence is looked up first, so an unknown execution costs one request, and the ordered
 * consumer stops as soon as it reaches that sequence. Returns the last stored message (undefined
 * when the execution has none).
 */
async function forEachRecord(
  jsOrJsm: JetStreamClient | JetStreamManager,
  executionId: string,
  options: ReadEventsOptions,
  each: (msg: JsMsg, js: JetStreamClient) => void | Promise<void>,
): Promise<StoredMsg | undefined> {
  const { js, jsm } = await clients(jsOrJsm);
  const subject = Subjects.events(executionId);
  const last = await jsm.streams.getMessage(Streams.events, { last_by_subj: subject });
  if (!last) return undefined;
  const fromSeq = Math.max(options.fromSeq ?? 1, 1);
  if (fromSeq > last.seq) return last;
  const consumerOptions: Partial<OrderedConsumerOptions> = { filter_subjects: subject };
  if (fromSeq > 1) {
    consumerOptions.deliver_policy = DeliverPolicy.StartSequence;
    consumerOptions.opt_start_seq = fromSeq;
  }
  const consumer = await js.consumers.get(Streams.events, consumerOptions);
  const messages = await consumer.consume({ max_messages: 256 });
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  let timedOut = false;
  let idle = setTimeout(() => stopIdle(), idleTimeoutMs);
  const stopIdle = () => {
    timedOut = true;
    messages.stop();
  };
  try {
    for await (const msg of messages) {
      clearTimeout(idle);
      await each(msg, js);
      // pending = messages left on the subject after this one (some may have expired meanwhile).
      if (msg.seq >= last.seq || msg.info.pending === 0) break;
      idle = setTimeout(() => stopIdle(), idleTimeoutMs);
    }
  } finally {
    clearTimeout(idle);
    messages.stop();
    // Do not leave the ephemeral consumer to the server's 5-minute inactivity cleanup.
    void Promise.resolve()
      .then(() => consumer.delete())
      .catch(() => undefined);
  }
  if (timedOut) {
    throw new Error(`reading ${subject}: no message for ${idleTimeoutMs} ms before sequence ${last.seq}`);
  }
  return last;
}

async function collect(js: JetStreamClient, result: ReadEventsResult, msg: JsMsg): Promise<void> {
  result.lastSeq = msg.seq;
  result.head = msg.headers?.get(AuditHeaders.hash) || GENESIS;
  const decoded = await decodeStoredRecord(js, msg.subject, msg.data);
  if (decoded.ok) {
    for (const event of decoded.events) result.events.push({ seq: msg.seq, event });
  } else {
    result.invalid.push({ seq: msg.seq, reason: decoded.reason, issues: decoded.issues });
  }
}

export type DecodedRecord =
  | { ok: true; events: ExecutionEvent[] }
  | { ok: false; reason: string; issues: Issue[] };

/**
 * `decodeRecord` of a stored message that may be a claim-check reference (a record larger than
 * one message, see claim.ts): the stored copy is read first. A copy past its retention makes the
 * record invalid, with that reason; an outage throws.
 */
export async function decodeStoredRecord(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
): Promise<DecodedRecord> {
  let resolved: Uint8Array;
  try {
    resolved = await resolveClaim(js, data);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { ok: false, reason: err.message, issues: err.issues };
  }
  return decodeRecord(subject, resolved);
}

/**
 * The stored record at `seq` of the events stream (a direct get), decoded and checked as any
 * read record is; undefined when the stream no longer holds it.
 */
export async function readRecordAt(jsm: JetStreamManager, seq: number): Promise<DecodedRecord | undefined> {
  const msg = await jsm.streams.getMessage(Streams.events, { seq });
  return msg ? decodeStoredRecord(jsm.jetstream(), msg.subject, msg.data) : undefined;
}

/**
 * Parses one stored message of the events stream: valid JSON, a valid `EventRecord`, and every
 * event of the execution whose subject it is on (folding it otherwise would record another
 * execution's event, or a forged one, in this execution). All or nothing per record.
 */
export function decodeRecord(subject: string, data: Uint8Array): DecodedRecord {
  let json: unknown;
  try {
    json = JSON.parse(decodeText(data));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'not JSON', issues: [{ path: '(root)', message }] };
  }
  const parsed = EventRecord.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { ok: false, reason: 'not a valid EventRecord (a JSON array of ExecutionEvents)', issues };
  }
  const misplaced = misplacedEvent(parsed.data, subject);
  if (misplaced) return { ok: false, reason: misplaced.message, issues: [misplaced] };
  return { ok: true, events: parsed.data };
}

/** The first event of a record that is not of the execution whose subject the record is on. */
export function misplacedEvent(record: readonly ExecutionEvent[], subject: string): Issue | undefined {
  for (const [index, event] of record.entries()) {
    const wanted = Subjects.events(event.execution_id);
    if (subject !== wanted) {
      return {
        path: `[${index}].execution_id`,
        message: `the event's execution_id belongs on ${wanted}, not on ${subject}`,
      };
    }
  }
  return undefined;
}

async function clients(
  jsOrJsm: JetStreamClient | JetStreamManager,
): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
  if ('publish' in jsOrJsm) return { js: jsOrJsm, jsm: await jsOrJsm.jetstreamManager(false) };
  return { js: jsOrJsm.jetstream(), jsm: jsOrJsm };
}
