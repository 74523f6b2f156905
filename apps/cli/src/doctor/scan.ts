import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import {
  decodeStoredRecord,
  decodeText,
  readEvents,
  resolveClaim,
  type StoredEvent,
  taskConsumerConfig,
} from '@orchestra/bus';
import { Streams, Subjects, Timer } from '@orchestra/contracts';
import { type ExecutionState, fold } from '@orchestra/execution';
import { orchestratorDurables } from '@orchestra/orchestrator';
import {
  type BusSnapshot,
  baseMessageId,
  effectRecords,
  pluginsInFlight,
  type StuckTask,
  stillStuck,
  stuckTasks,
} from './examine.js';

/**
 * What `orchestra doctor` reads (docs/audit.md, "Stuck runs"). The work-queue streams refuse a
 * second consumer on a subject their durable consumer already filters, so they are read message
 * by message with the stream's get API (`next_by_subj`), never through a consumer.
 */

export interface StuckExecution {
  execution_id: string;
  plan_id: string | null;
  tasks: StuckTask[];
}

export interface MissingConsumer {
  stream: string;
  name: string;
  why: string;
}

export interface DoctorFindings {
  /** Executions with events in the stream (or those named), and how many of them are running. */
  executions: number;
  running: number;
  stuck: StuckExecution[];
  missing_consumers: MissingConsumer[];
  /** Tasks not judged: the record asking for their effects is not through the outbox yet. */
  not_yet_published: number;
}

/**
 * The durable consumers Orchestra cannot progress without, by stream: the orchestrator's (its
 * commands, outcomes, timers and outbox) and the results service's. A plugin's `dispatch-<plugin>`
 * is added for each plugin that has a running attempt.
 */
export const REQUIRED_CONSUMERS: readonly (readonly [string, string])[] = [
  // The orchestrator names its own (so this list cannot drift from its bindings), then results'.
  ...orchestratorDurables().map(({ stream, durable }) => [stream, durable] as const),
  [Streams.events, 'results'],
];
const OUTBOX: readonly [string, string] = [Streams.events, 'orchestrator-effects'];

/** Requests in flight at once while listing executions. */
const PARALLEL = 32;

/** Examines the running executions (every one in the events stream, or those named). */
export async function examine(
  js: JetStreamClient,
  jsm: JetStreamManager,
  only: readonly string[] = [],
): Promise<DoctorFindings> {
  // The outbox's ack floor, read first: a record at or below it had its effects published before
  // anything below is read (a later floor could count a publish that happened after the read).
  const outbox = await consumerInfo(jsm, OUTBOX[0], OUTBOX[1]);
  const floor = outbox?.ack_floor.stream_seq;
  const ids = only.length > 0 ? [...only] : await executionIds(jsm);
  const candidates = (
    await mapLimit(ids, PARALLEL, async (id) => ((await mayBeRunning(js, jsm, id)) ? id : undefined))
  ).filter((id): id is string => id !== undefined);
  const running: { id: string; events: StoredEvent[]; lastSeq: number; state: ExecutionState }[] = [];
  for (const id of candidates) {
    const read = await readEvents(jsm, id);
    const state = fold(read.events.map((stored) => stored.event));
    if (state.status === 'running') running.push({ id, events: read.events, lastSeq: read.lastSeq, state });
  }
  const plugins = [...new Set(running.flatMap(({ state }) => pluginsInFlight(state)))];
  const dispatches = new Set<string>();
  for (const plugin of plugins)
    await eachStored(jsm, Streams.tasks, Subjects.tasks(plugin), (msg) => {
      const id = msg.header?.get('Nats-Msg-Id');
      if (id) dispatches.add(baseMessageId(id));
    });
  const findings: DoctorFindings = {
    executions: ids.length,
    running: running.length,
    stuck: [],
    missing_consumers: [],
    not_yet_published: 0,
  };
  for (const execution of running) {
    const snapshot: BusSnapshot = { dispatches, ...(await waitingFor(js, jsm, execution.id)) };
    const asked = effectRecords(execution.events);
    const found = stuckTasks(execution.state, snapshot, (task) => {
      const published = floor === undefined || (asked.get(task.task_id) ?? 0) <= floor;
      if (!published) findings.not_yet_published += 1;
      return published;
    });
    if (found.length === 0) continue;
    // The log again, after the bus: a task that moved meanwhile was not stuck.
    const later = await readEvents(jsm, execution.id, { fromSeq: execution.lastSeq + 1 });
    const state = fold([...execution.events, ...later.events].map((stored) => stored.event));
    const tasks = stillStuck(found, state);
    if (tasks.length > 0)
      findings.stuck.push({ execution_id: execution.id, plan_id: state.plan?.plan_id ?? null, tasks });
  }
  findings.missing_consumers = await missingConsumers(jsm, plugins);
  return findings;
}

/** Every execution with events in the stream: the stream's subjects (docs/audit.md). */
async function executionIds(jsm: JetStreamManager): Promise<string[]> {
  const info = await jsm.streams.info(Streams.events, { subjects_filter: Subjects.allEvents });
  const prefix = Subjects.allEvents.slice(0, -1);
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

/** Whether the execution's last record does not end it (one request; the log is read only then). */
async function mayBeRunning(js: JetStreamClient, jsm: JetStreamManager, id: string): Promise<boolean> {
  const subject = Subjects.events(id);
  const last = await jsm.streams.getMessage(Streams.events, { last_by_subj: subject });
  if (!last) return false;
  const decoded = await decodeStoredRecord(js, subject, last.data);
  const end = decoded.ok ? decoded.events.at(-1)?.type : undefined;
  return end !== 'ExecutionFinished' && end !== 'ExecutionRejected';
}

/** The execution's outcomes and timers waiting in their streams (a large outcome through its claim). */
async function waitingFor(
  js: JetStreamClient,
  jsm: JetStreamManager,
  id: string,
): Promise<Omit<BusSnapshot, 'dispatches'>> {
  const stored: StoredMsg[] = [];
  await eachStored(jsm, Streams.outcomes, Subjects.outcomes(id), (msg) => void stored.push(msg));
  const outcomes = new Set<string>();
  for (const msg of stored) {
    const outcome = parsed(await resolveClaim(js, msg.data).catch(() => msg.data)) as
      | { task_id?: unknown; attempt_number?: unknown }
      | undefined;
    if (outcome) outcomes.add(`${String(outcome.task_id)}:${String(outcome.attempt_number)}`);
  }
  const timers: Timer[] = [];
  await eachStored(jsm, Streams.timers, Subjects.timers(id), (msg) => {
    const timer = Timer.safeParse(parsed(msg.data));
    if (timer.success) timers.push(timer.data);
  });
  return { outcomes, timers };
}

/** Each message stored on `subject`, oldest first, by direct gets: no consumer is created. */
export async function eachStored(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  each: (msg: StoredMsg) => void,
): Promise<void> {
  let seq = 0;
  for (;;) {
    // `next_by_subj`: the first message on the subject at or after `seq` (STREAM.MSG.GET, 2.9+).
    const query = { seq: seq + 1, next_by_subj: subject } as unknown as { seq: number };
    const msg = await jsm.streams.getMessage(stream, query);
    if (!msg) return;
    each(msg);
    seq = msg.seq;
  }
}

async function missingConsumers(
  jsm: JetStreamManager,
  plugins: readonly string[],
): Promise<MissingConsumer[]> {
  const wanted = [
    ...REQUIRED_CONSUMERS.map(([stream, name]) => ({ stream, name, why: whyNeeded(name) })),
    ...plugins.map((plugin) => ({
      stream: Streams.tasks,
      name: taskConsumerConfig(plugin).durable_name,
      why: `the workers of plugin ${plugin} take their tasks from it: none has since it was deleted (or none ever started)`,
    })),
  ];
  const missing: MissingConsumer[] = [];
  for (const consumer of wanted)
    if (!(await consumerInfo(jsm, consumer.stream, consumer.name))) missing.push(consumer);
  return missing;
}

function whyNeeded(name: string): string {
  if (name === 'results') return 'the results service folds the events into execution_results through it';
  if (name === 'orchestrator-effects')
    return "the orchestrator's outbox: effects left after a crash go out through it";
  return `the orchestrator takes its ${name.slice('orchestrator-'.length)} inputs from it`;
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string) {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (
      error instanceof JetStreamApiError &&
      (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound)
    )
      return undefined;
    throw error;
  }
}

function parsed(data: Uint8Array): unknown {
  try {
    return JSON.parse(decodeText(data));
  } catch {
    return undefined;
  }
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
