import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import {
  ConcurrencyError,
  ExecutionEvent,
  formatPath,
  type Issue,
  Streams,
  Subjects,
  ValidationError,
} from '@orchestra/contracts';
import { decodeText } from './codec.js';
import { publishJson } from './publish.js';

/**
 * The event store: every event of one execution on `orchestra.events.<execution_id>`, in order,
 * appended with the expected last subject sequence so that two writers cannot diverge.
 */

export interface AppendOptions {
  /** A message id per event (deduplicates a re-append after a crash); undefined for none. */
  msgId?: (event: ExecutionEvent, index: number) => string | undefined;
  /** Milliseconds to wait for each PubAck. */
  timeout?: number;
}

/**
 * Appends `events` in order; the first must find the subject at `expectedLastSubjectSequence`
 * (0 = no event yet), each next one the sequence of the previous. Returns the last sequence.
 * Without atomic batches (nats-server 2.9) a conflict on a later event leaves the earlier ones
 * stored: the caller re-reads and re-decides from what is really there.
 */
export async function appendEvents(
  js: JetStreamClient,
  executionId: string,
  events: readonly ExecutionEvent[],
  expectedLastSubjectSequence: number,
  options: AppendOptions = {},
): Promise<number> {
  const subject = Subjects.events(executionId);
  for (const [index, event] of events.entries()) checkEvent(executionId, event, index);
  let expected = expectedLastSubjectSequence;
  for (const [index, event] of events.entries()) {
    // By default the message id names the position the event claims. On a clustered 2.9 stream
    // the expected-sequence check alone can let two writers claim it (nats-server #4320); the
    // dedupe of the id cannot, so a duplicate is a conflict too.
    const msgID = options.msgId ? options.msgId(event, index) : `${executionId}:${expected}`;
    try {
      const ack = await publishJson(js, subject, event, {
        expect: { lastSubjectSequence: expected },
        ...(msgID === undefined ? {} : { msgID }),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      });
      if (ack.duplicate && !options.msgId) {
        throw new ConcurrencyError(
          `execution ${executionId}: position after sequence ${expected} was already taken ` +
            `(${index} of ${events.length} events appended before the conflict)`,
        );
      }
      expected = ack.seq;
    } catch (err) {
      if (isOverMaxPayload(err)) {
        // Retrying cannot help: the event must shrink or the server's max_payload grow.
        throw new ValidationError(
          `event ${index} (${event.type}) of execution ${executionId} is larger than the server's max_payload`,
          [{ path: `events[${index}]`, message: 'larger than the server accepts in one message' }],
          { cause: err },
        );
      }
      if (isWrongLastSequence(err)) {
        throw new ConcurrencyError(
          `execution ${executionId} moved past sequence ${expected}: ` +
            `${index} of ${events.length} events appended before the conflict`,
          { cause: err },
        );
      }
      throw err;
    }
  }
  return expected;
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

function checkEvent(executionId: string, event: ExecutionEvent, index: number): void {
  const parsed = ExecutionEvent.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new ValidationError(`event ${index} is not a valid ExecutionEvent`, issues);
  }
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
  const { js, jsm } = await clients(jsOrJsm);
  const subject = Subjects.events(executionId);
  const result: ReadEventsResult = { events: [], invalid: [], lastSeq: 0 };
  const last = await jsm.streams.getMessage(Streams.events, { last_by_subj: subject });
  if (!last) return result;
  const fromSeq = Math.max(options.fromSeq ?? 1, 1);
  if (fromSeq > last.seq) {
    result.lastSeq = last.seq;
    return result;
  }
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
      collect(result, msg);
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
  return result;
}

function collect(result: ReadEventsResult, msg: JsMsg): void {
  result.lastSeq = msg.seq;
  let json: unknown;
  try {
    json = JSON.parse(decodeText(msg.data));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    result.invalid.push({ seq: msg.seq, reason: 'not JSON', issues: [{ path: '(root)', message }] });
    return;
  }
  const parsed = ExecutionEvent.safeParse(json);
  if (parsed.success && msg.subject !== Subjects.events(parsed.data.execution_id)) {
    // Folding it would record another execution's event (or a forged one) in this execution.
    const message = `the event is of execution ${parsed.data.execution_id}, not of ${msg.subject}`;
    result.invalid.push({ seq: msg.seq, reason: message, issues: [{ path: 'execution_id', message }] });
  } else if (parsed.success) {
    result.events.push({ seq: msg.seq, event: parsed.data });
  } else {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    result.invalid.push({ seq: msg.seq, reason: 'not a valid ExecutionEvent', issues });
  }
}

async function clients(
  jsOrJsm: JetStreamClient | JetStreamManager,
): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
  if ('publish' in jsOrJsm) return { js: jsOrJsm, jsm: await jsOrJsm.jetstreamManager(false) };
  return { js: jsOrJsm.jetstream(), jsm: jsOrJsm };
}
