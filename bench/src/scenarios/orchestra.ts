import { readEvents } from '@orchestra/bus';
import type { ExecutionEvent } from '@orchestra/contracts';
import type { Usage } from '../meter.js';
import { chainPlan, widePlan } from '../plans.js';
import { epochMs, RssSampler } from '../procs.js';
import { type Distribution, distribution, perSecond, round } from '../stats.js';
import type { OrchestraSystem } from '../system.js';
import { Tracker } from './tracker.js';

export interface OrchestraThroughput extends Usage {
  tasks: number;
  /** Tasks / (command published -> last ExecutionFinished appended): the orchestrator's own pace. */
  orchestrator_tasks_per_s: number | null;
  /**
   * The events stream when the last ExecutionFinished went by: its last sequence and the last one
   * the results projector and the outbox had acknowledged (how far behind they were).
   */
  backlog_at_finish: Record<string, number> | null;
  /** Plan command published -> final execution_results in the bucket. */
  seconds: number;
  tasks_per_s: number;
  /** Plan command published -> ExecutionFinished appended (the orchestrator's part). */
  finished_event_seconds: number | null;
  timed_out: boolean;
  /** Tasks that had succeeded when the run ended (all of them unless it timed out). */
  tasks_succeeded: number;
}

/** W: one execution of one parallel phase of `width` echo tasks. */
export async function orchestraWide(
  system: OrchestraSystem,
  width: number,
  timeoutMs: number,
): Promise<OrchestraThroughput & OrchestraWideExtras> {
  const sampler = processSampler(system);
  const tracker = new Tracker(system);
  const id = 'bench-w-1';
  const dispatchSeen = new Map<string, number>();
  const outcomeSeen = new Map<string, number>();
  const copies = [
    watchTaskIds(system, 'orchestra.tasks.builtin', dispatchSeen),
    watchTaskIds(system, `orchestra.outcomes.${id}`, outcomeSeen),
  ];
  const started = epochMs();
  await tracker.submit(id, widePlan(width));
  const backlog = backlogWhenFinished(system, tracker, 1);
  const ok = await tracker.waitDone(1, Date.now() + timeoutMs, backlog.tick);
  const done = tracker.results(id);
  const end = done?.at ?? epochMs();
  const finished = tracker.finishedAt.get(id);
  const usage = await tracker.usage(width);
  const rss = sampler.stop();
  for (const sub of copies) sub.unsubscribe();
  const since = (times: Iterable<number>) => {
    const list = [...times];
    return list.length === 0 ? null : round((Math.max(...list) - started) / 1000, 3);
  };
  return {
    tasks: width,
    rss_mb: rss,
    stages_s: {
      first_dispatch_seen:
        dispatchSeen.size === 0 ? null : round((Math.min(...dispatchSeen.values()) - started) / 1000, 3),
      last_dispatch_seen: since(dispatchSeen.values()),
      last_outcome_seen: since(outcomeSeen.values()),
      execution_finished: finished === undefined ? null : round((finished - started) / 1000, 3),
      results_final: round((end - started) / 1000, 3),
    },
    event_counts: await eventCounts(system, id),
    orchestrator_tasks_per_s: finished === undefined ? null : perSecond(width, finished - started),
    backlog_at_finish: await backlog.value,
    seconds: round((end - started) / 1000, 3),
    tasks_per_s: perSecond(ok ? width : tracker.succeeded, end - started),
    finished_event_seconds: finished === undefined ? null : round((finished - started) / 1000, 3),
    timed_out: !ok,
    tasks_succeeded: tracker.succeeded,
    ...usage,
    status: done?.results.status ?? null,
    rejected: tracker.rejected.get(id) ?? null,
  };
}

export interface OrchestraChain extends Usage {
  steps: number;
  seconds: number;
  timed_out: boolean;
  /** The brief's measure: TaskSucceeded(n).at -> TaskDispatched(n+1).at, in ms. */
  succeeded_to_next_dispatched_ms: Distribution | null;
  /**
   * One step of the chain as a whole: TaskSucceeded(n).at -> TaskSucceeded(n+1).at less the
   * plugin's duration_ms, in ms: everything that is not the task itself.
   */
  step_overhead_ms: Distribution | null;
  /**
   * One step end to end, from copies of the records on the bus (sub-millisecond): TaskSucceeded(n)
   * seen -> TaskSucceeded(n+1) seen, in ms.
   */
  step_seen_ms: Distribution | null;
  /** Wall time (command -> final results) / steps, in ms. */
  per_step_ms: number;
  /** Where one step's time goes, from the events' `at` and copies of the bus messages, in ms. */
  breakdown_ms: {
    /** TaskDispatched decided -> on the bus (the decision's appends, one PubAck at a time). */
    decided_to_appended: Distribution | null;
    /** TaskDispatched on the bus -> DispatchTask on the bus (outbox consumer, load, publish). */
    appended_to_command: Distribution | null;
    /** DispatchTask on the bus -> TaskOutcome on the bus (dispatcher pull, plugin, publish). */
    command_to_outcome: Distribution | null;
    /** TaskOutcome on the bus -> TaskSucceeded decided (orchestrator pull, load, decide). */
    outcome_to_succeeded: Distribution | null;
  };
  /** RSS of each process at the end. */
  rss_mb: Record<string, { peak_mb: number; last_mb: number }>;
}

interface OrchestraWideExtras {
  /**
   * Seconds from the command to: the first and last DispatchTask on the bus, the last
   * TaskOutcome, ExecutionFinished appended, final results (copies of the bus messages).
   */
  stages_s: Record<string, number | null>;
  status: string | null;
  rejected: string | null;
  rss_mb: Record<string, { peak_mb: number; last_mb: number }>;
  /**
   * Events of the execution by type, read back from the stream at the end: TaskTimedOut and
   * OutcomeIgnored here mean the orchestrator fell so far behind that deadlines (60 s by default)
   * passed before it got to outcomes that had arrived in time.
   */
  event_counts: Record<string, number> | null;
}

async function eventCounts(system: OrchestraSystem, id: string): Promise<Record<string, number> | null> {
  try {
    const { events } = await readEvents(system.jsm, id);
    const counts: Record<string, number> = {};
    for (const { event } of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
    return counts;
  } catch {
    return null;
  }
}

/** RSS of the services and the nats-server, sampled every 200 ms. */
export function processSampler(system: OrchestraSystem): RssSampler {
  return new RssSampler(() => system.pids());
}

/** Final statuses of the executions' results, counted. */
export function statusCounts(tracker: Tracker, ids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const status = tracker.results(id)?.results.status ?? 'not final';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** C: one execution of a sequential phase of `steps` echo tasks, each referencing the previous one. */
export async function orchestraChain(
  system: OrchestraSystem,
  steps: number,
  timeoutMs: number,
): Promise<OrchestraChain> {
  const id = 'bench-c-1';
  const appendedSeen = new Map<string, number>();
  const succeededSeen = new Map<string, number>();
  const commandSeen = new Map<string, number>();
  const outcomeSeen = new Map<string, number>();
  const copies = [
    watchTaskIds(system, 'orchestra.tasks.builtin', commandSeen),
    watchTaskIds(system, `orchestra.outcomes.${id}`, outcomeSeen),
  ];
  const sampler = processSampler(system);
  const tracker = new Tracker(system);
  tracker.onSeen = ({ event, seenAt }) => {
    const into = { TaskDispatched: appendedSeen, TaskSucceeded: succeededSeen }[event.type as string];
    if (into && 'task_id' in event && !into.has(event.task_id)) into.set(event.task_id, seenAt);
  };
  const started = epochMs();
  await tracker.submit(id, chainPlan(steps));
  const ok = await tracker.waitDone(1, Date.now() + timeoutMs);
  const end = tracker.results(id)?.at ?? epochMs();
  const usage = await tracker.usage(steps);
  const rss = sampler.stop();
  for (const sub of copies) sub.unsubscribe();
  const { events } = await readEvents(system.jsm, id);
  const log = events.map((stored) => stored.event);
  const dispatched = byTask(log, 'TaskDispatched');
  const succeeded = byTask(log, 'TaskSucceeded');
  const literal: number[] = [];
  const overhead: number[] = [];
  const toAppended: number[] = [];
  const toCommand: number[] = [];
  const toOutcome: number[] = [];
  const toSucceeded: number[] = [];
  const stepSeen: number[] = [];
  let previousSeen: number | undefined;
  for (let n = 0; n < steps; n++) {
    const task = `t${n}`;
    const next = `t${n + 1}`;
    const done = succeeded.get(task);
    const sent = dispatched.get(task);
    const nextDispatch = dispatched.get(next);
    const nextDone = succeeded.get(next);
    if (done && nextDispatch) literal.push(nextDispatch.at - done.at);
    if (done && nextDone && nextDone.type === 'TaskSucceeded') {
      overhead.push(nextDone.at - done.at - nextDone.duration_ms);
    }
    const command = commandSeen.get(task);
    const outcome = outcomeSeen.get(task);
    const appended = appendedSeen.get(task);
    if (sent && appended !== undefined) toAppended.push(appended - sent.at);
    if (appended !== undefined && command !== undefined) toCommand.push(command - appended);
    if (command !== undefined && outcome !== undefined) toOutcome.push(outcome - command);
    if (outcome !== undefined && done) toSucceeded.push(done.at - outcome);
    const seen = succeededSeen.get(task);
    if (seen !== undefined && previousSeen !== undefined) stepSeen.push(seen - previousSeen);
    previousSeen = seen;
  }
  return {
    steps,
    seconds: round((end - started) / 1000, 3),
    timed_out: !ok,
    succeeded_to_next_dispatched_ms: distribution(literal),
    step_overhead_ms: distribution(overhead),
    step_seen_ms: distribution(stepSeen),
    per_step_ms: round((end - started) / steps, 3),
    breakdown_ms: {
      decided_to_appended: distribution(toAppended),
      appended_to_command: distribution(toCommand),
      command_to_outcome: distribution(toOutcome),
      outcome_to_succeeded: distribution(toSucceeded),
    },
    rss_mb: rss,
    ...usage,
  };
}

function byTask<T extends ExecutionEvent['type']>(log: ExecutionEvent[], type: T) {
  const out = new Map<string, Extract<ExecutionEvent, { type: T }>>();
  for (const event of log) {
    if (event.type === type && 'task_id' in event)
      out.set(event.task_id, event as Extract<ExecutionEvent, { type: T }>);
  }
  return out;
}

/** Copies of the messages on `subject` (a core subscription), timed by task id. */
function watchTaskIds(system: OrchestraSystem, subject: string, into: Map<string, number>) {
  const sub = system.nc.subscribe(subject);
  void (async () => {
    for await (const msg of sub) {
      const seenAt = epochMs();
      try {
        const { task_id } = msg.json<{ task_id: string }>();
        if (!into.has(task_id)) into.set(task_id, seenAt);
      } catch {
        // not ours
      }
    }
  })().catch(() => undefined);
  return sub;
}

/** Samples the events backlog once, when `count` executions have appended ExecutionFinished. */
export function backlogWhenFinished(system: OrchestraSystem, tracker: Tracker, count: number) {
  let sampled: Promise<Record<string, number> | null> | undefined;
  return {
    tick: () => {
      if (!sampled && tracker.finishedAt.size >= count) sampled = system.eventsBacklog().catch(() => null);
    },
    get value() {
      return sampled ?? Promise.resolve(null);
    },
  };
}
