import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { decodeText, provisionAll, readEvents } from '@orchestra/bus';
import { EventRecord, type ExecutionEvent, Streams, Subjects, type TaskOutcome } from '@orchestra/contracts';
import {
  type DecisionInput,
  decide,
  ExecutionFold,
  type ExecutionState,
  fold,
  initialState,
} from '@orchestra/execution';
import { startNats } from '../infra.js';
import { widePlan } from '../plans.js';
import { TimeoutError } from '../procs.js';
import { type Distribution, distribution, perSecond, round } from '../stats.js';

/** Tasks of the execution every stored one copies: 2 + 2 × 48 + 2 = 100 events. */
const TEMPLATE_TASKS = 48;
const PLACEHOLDER = 'EXECID';
const encoder = new TextEncoder();

export interface Replay {
  events: number;
  /** Stored messages: each a record of the events of one decision. */
  records: number;
  executions: number;
  events_per_execution: number;
  bytes: number;
  /** Appending the events (pipelined publishes to orchestra.events.<id>), events/s. */
  write_events_per_s: number;
  /** The bare limit: every record off the stream through one ordered consumer, no decoding (events/s). */
  read_events_per_s: number;
  /** JSON.parse of every payload. */
  decode_events_per_s: number;
  /** zod EventRecord.safeParse of every decoded record (what readEvents does), events/s. */
  validate_events_per_s: number;
  /** libs/execution fold, one fold per execution. */
  fold_events_per_s: number;
  /** The whole replay in one streaming pass: read, decode, validate, fold as records arrive. */
  replay_events_per_s: number;
  /** The same four steps measured one after the other (no overlap of reading and CPU work). */
  phases_sum_events_per_s: number;
  seconds: { write: number; replay: number; read: number; decode: number; validate: number; fold: number };
  /** readEvents (libs/bus), one execution at a time, as the services and the CLI read a log. */
  read_events_per_execution: { executions: number; events_per_s: number; ms: Distribution | null };
}

/**
 * The records of one execution of `TEMPLATE_TASKS` echo tasks, decided by the real decider one
 * input at a time (no outcomes decided together: the most records an execution can take): the
 * first decision's 50 events in one record, then one record per outcome.
 */
export function templateRecords(): ExecutionEvent[][] {
  let state: ExecutionState = initialState();
  let now = 1_700_000_000_000;
  const records: ExecutionEvent[][] = [];
  const step = (input: DecisionInput) => {
    const decision = decide(state, input, { now: now++ });
    if (decision.events.length > 0) records.push(decision.events);
    state = decision.state;
    return decision.events;
  };
  const started = step({
    kind: 'execute',
    execution_id: PLACEHOLDER,
    plan: widePlan(TEMPLATE_TASKS, 'bench-replay'),
  });
  for (const event of started) {
    if (event.type !== 'TaskDispatched') continue;
    const outcome: TaskOutcome = {
      type: 'TaskOutcome',
      status: 'succeeded',
      execution_id: PLACEHOLDER,
      phase_id: event.phase_id,
      task_id: event.task_id,
      attempt_number: event.attempt_number,
      plugin_used: event.plugin,
      output: event.input_context,
      duration_ms: 1,
      finished_at: now,
    };
    step({ kind: 'outcome', outcome });
  }
  return records;
}

/** R: stores `count` events (copies of one decided execution), then replays them all. */
export async function replay(count: number, samplePerExecution: number, timeoutMs: number): Promise<Replay> {
  const deadline = Date.now() + timeoutMs;
  const check = (what: string) => {
    if (Date.now() > deadline) throw new TimeoutError(`replay: ${what} past the ${timeoutMs} ms budget`);
  };
  const nats = await startNats();
  const nc = await connect({ servers: nats.url, name: 'bench-replay' });
  try {
    await provisionAll(nc);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const records = templateRecords();
    const template = records.map((record) => JSON.stringify(record));
    const eventsPerExecution = records.reduce((sum, record) => sum + record.length, 0);
    const executions = Math.ceil(count / eventsPerExecution);
    const total = executions * eventsPerExecution;
    const totalRecords = executions * template.length;

    let bytes = 0;
    let t0 = performance.now();
    const pending = new Set<Promise<unknown>>();
    for (let e = 0; e < executions; e++) {
      const id = `bench-r-${e}`;
      const subject = Subjects.events(id);
      for (const text of template) {
        const data = encoder.encode(text.replaceAll(`"${PLACEHOLDER}"`, `"${id}"`));
        bytes += data.length;
        const ack = js.publish(subject, data).finally(() => pending.delete(ack));
        pending.add(ack);
        if (pending.size >= 1000) await Promise.race(pending);
      }
      if (e % 100 === 0) check('writing');
    }
    await Promise.all(pending);
    const writeMs = performance.now() - t0;

    t0 = performance.now();
    const raw: Uint8Array[] = [];
    const consumer = await js.consumers.get(Streams.events, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 10_000 });
    for await (const msg of messages) {
      raw.push(msg.data);
      if (raw.length >= totalRecords || msg.info.pending === 0) break;
      if (raw.length % 10_000 === 0) check('reading');
    }
    messages.stop();
    const readMs = performance.now() - t0;

    t0 = performance.now();
    const decoded = raw.map((data) => JSON.parse(decodeText(data)) as unknown);
    const decodeMs = performance.now() - t0;
    check('decoding');

    t0 = performance.now();
    const events: ExecutionEvent[] = [];
    for (const json of decoded) {
      const parsed = EventRecord.safeParse(json);
      if (parsed.success) events.push(...parsed.data);
    }
    const validateMs = performance.now() - t0;
    check('validating');

    t0 = performance.now();
    const byExecution = new Map<string, ExecutionEvent[]>();
    for (const event of events) {
      const list = byExecution.get(event.execution_id);
      if (list) list.push(event);
      else byExecution.set(event.execution_id, [event]);
    }
    let finished = 0;
    for (const list of byExecution.values()) if (fold(list).status === 'finished') finished += 1;
    const foldMs = performance.now() - t0;
    if (finished !== executions)
      throw new Error(`replay: ${finished} of ${executions} folds reached "finished"`);

    // The whole replay as a reader does it: one pass over the stream, each record decoded,
    // validated and folded into its execution's state as it arrives.
    t0 = performance.now();
    const states = new Map<string, ExecutionFold>();
    let streamed = 0;
    let streamedRecords = 0;
    const replayer = await js.consumers.get(Streams.events, { deliver_policy: DeliverPolicy.All });
    const replayMessages = await replayer.consume({ max_messages: 10_000 });
    for await (const msg of replayMessages) {
      streamedRecords += 1;
      const parsed = EventRecord.safeParse(JSON.parse(decodeText(msg.data)));
      if (parsed.success) {
        for (const event of parsed.data) {
          let state = states.get(event.execution_id);
          if (!state) {
            state = new ExecutionFold();
            states.set(event.execution_id, state);
          }
          state.apply([event]);
          streamed += 1;
        }
      }
      if (streamedRecords >= totalRecords || msg.info.pending === 0) break;
      if (streamedRecords % 10_000 === 0) check('replaying');
    }
    replayMessages.stop();
    const streamMs = performance.now() - t0;
    let streamedFinished = 0;
    for (const state of states.values()) if (state.state.status === 'finished') streamedFinished += 1;
    if (streamedFinished !== executions)
      throw new Error(`replay: ${streamedFinished} of ${executions} streamed folds reached "finished"`);

    const samples: number[] = [];
    let sampled = 0;
    t0 = performance.now();
    for (let e = 0; e < Math.min(samplePerExecution, executions); e++) {
      const start = performance.now();
      const read = await readEvents(jsm, `bench-r-${e}`);
      samples.push(performance.now() - start);
      sampled += read.events.length;
    }
    const perExecutionMs = performance.now() - t0;

    return {
      events: events.length,
      records: raw.length,
      executions,
      events_per_execution: eventsPerExecution,
      bytes,
      write_events_per_s: perSecond(total, writeMs),
      read_events_per_s: perSecond(events.length, readMs),
      decode_events_per_s: perSecond(events.length, decodeMs),
      validate_events_per_s: perSecond(events.length, validateMs),
      fold_events_per_s: perSecond(events.length, foldMs),
      replay_events_per_s: perSecond(streamed, streamMs),
      phases_sum_events_per_s: perSecond(events.length, readMs + decodeMs + validateMs + foldMs),
      seconds: {
        write: round(writeMs / 1000, 3),
        replay: round(streamMs / 1000, 3),
        read: round(readMs / 1000, 3),
        decode: round(decodeMs / 1000, 3),
        validate: round(validateMs / 1000, 3),
        fold: round(foldMs / 1000, 3),
      },
      read_events_per_execution: {
        executions: samples.length,
        events_per_s: perSecond(sampled, perExecutionMs),
        ms: distribution(samples),
      },
    };
  } finally {
    await nc.close().catch(() => undefined);
    await nats.stop();
  }
}
