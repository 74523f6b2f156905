import type { ServerMemory } from '../infra.js';
import { widePlan } from '../plans.js';
import { epochMs, rssMb, sleep } from '../procs.js';
import { type Distribution, distribution, perSecond, round } from '../stats.js';
import type { OrchestraSystem } from '../system.js';
import { backlogWhenFinished, type OrchestraThroughput, processSampler, statusCounts } from './orchestra.js';
import { Tracker } from './tracker.js';

/** Commands published at once (each awaits its PubAck). */
const SUBMIT_BATCH = 64;
/** No execution final for this long: the in-flight ones are polled for results as well. */
const STALL_MS = 5_000;

export interface ManyOptions {
  /**
   * At most this many executions submitted and not yet final at once: the submissions are
   * streamed as executions finish. Default: all of them, submitted at once.
   */
  inFlight?: number;
  /** Memory snapshots: one each time another 1/`snapshots` of the executions is final. */
  snapshots?: number;
  /** Progress lines (every 30 s) for a long run. */
  log?: (line: string) => void;
}

/** Memory of every process when `executions_done` executions were final. */
export interface MemorySnapshot {
  executions_done: number;
  seconds: number;
  /** Tasks/s since the previous snapshot. */
  tasks_per_s: number;
  rss_mb: Record<string, number>;
  server: ServerMemory | null;
}

export interface OrchestraMany extends OrchestraThroughput {
  executions: number;
  executions_per_s: number;
  in_flight_bound: number | null;
  /** Plan command published -> final results, per execution, in ms. */
  execution_latency_ms: Distribution | null;
  /** RSS in MB (VmRSS) of each process, sampled every 200 ms: the peak and the last value. */
  rss_mb: Record<string, { peak_mb: number; last_mb: number }>;
  /** The nats-server's memory and JetStream's store at the end. */
  server_memory: ServerMemory | null;
  snapshots: MemorySnapshot[];
  /** Final results by status (all `completed` unless something timed out or failed). */
  statuses: Record<string, number>;
}

/**
 * M: `executions` executions of one parallel phase of `tasksEach` echo tasks, submitted at once
 * or streamed (`inFlight`); timed until every execution's results are final.
 */
export async function orchestraMany(
  system: OrchestraSystem,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
  options: ManyOptions = {},
): Promise<OrchestraMany> {
  const sampler = processSampler(system);
  const tracker = new Tracker(system);
  const plan = widePlan(tasksEach, 'bench-many');
  const ids = Array.from({ length: executions }, (_, e) => `bench-m-${e}`);
  const bound = options.inFlight ?? executions;
  const every = options.snapshots ? Math.max(1, Math.ceil(executions / options.snapshots)) : executions + 1;
  const snapshots: MemorySnapshot[] = [];
  const deadline = Date.now() + timeoutMs;
  const backlog = backlogWhenFinished(system, tracker, executions);
  const started = epochMs();
  let last = { at: started, succeeded: 0 };
  const snapshot = async () => {
    const at = epochMs();
    const rss: Record<string, number> = {};
    for (const [name, pid] of Object.entries(system.pids())) rss[name] = round(rssMb(pid) ?? 0, 1);
    snapshots.push({
      executions_done: tracker.done,
      seconds: round((at - started) / 1000, 1),
      tasks_per_s: perSecond(tracker.succeeded - last.succeeded, at - last.at),
      rss_mb: rss,
      server: await system.nats.memory().catch(() => null),
    });
    last = { at, succeeded: tracker.succeeded };
  };
  let submitted = 0;
  let progress = { done: 0, at: Date.now() };
  let reported = Date.now();
  while (tracker.done < executions && Date.now() < deadline) {
    const room = Math.min(executions - submitted, bound - (submitted - tracker.done), SUBMIT_BATCH);
    if (room > 0) {
      const batch = ids.slice(submitted, submitted + room);
      submitted += room;
      await Promise.all(batch.map((id) => tracker.submit(id, plan)));
    }
    await tracker.poll();
    backlog.tick();
    if (tracker.done >= every * (snapshots.length + 1)) await snapshot();
    if (tracker.done > progress.done) progress = { done: tracker.done, at: Date.now() };
    else if (Date.now() - progress.at > STALL_MS) {
      // Nothing final for a while: look once at the executions in flight, in case an end went unseen.
      await tracker.checkResults(ids.slice(0, submitted).filter((id) => !tracker.results(id)));
      progress.at = Date.now();
    }
    if (options.log && Date.now() - reported > 30_000) {
      reported = Date.now();
      const rate = perSecond(tracker.succeeded, epochMs() - started);
      const rss = Math.round(rssMb(system.pid('orchestrator')) ?? 0);
      options.log(
        `    ${tracker.done} of ${executions} final, ${submitted} submitted, ${rate} tasks/s, orchestrator ${rss} MB`,
      );
    }
    if (room <= 0) await sleep(20);
  }
  const ok = tracker.done >= executions;
  const tasks = executions * tasksEach;
  const usage = await tracker.usage(tasks);
  let end = started;
  let lastFinished = started;
  const latencies: number[] = [];
  for (const id of ids) {
    const at = tracker.results(id)?.at;
    const submittedAt = tracker.submittedAt.get(id);
    if (at !== undefined && submittedAt !== undefined) latencies.push(at - submittedAt);
    end = Math.max(end, at ?? 0);
    lastFinished = Math.max(lastFinished, tracker.finishedAt.get(id) ?? 0);
  }
  if (!ok) end = epochMs();
  const allFinished = tracker.finishedAt.size === executions;
  return {
    executions,
    tasks,
    in_flight_bound: options.inFlight ?? null,
    orchestrator_tasks_per_s: allFinished ? perSecond(tasks, lastFinished - started) : null,
    backlog_at_finish: await backlog.value,
    seconds: round((end - started) / 1000, 3),
    tasks_per_s: perSecond(ok ? tasks : tracker.succeeded, end - started),
    executions_per_s: perSecond(tracker.done, end - started),
    finished_event_seconds: allFinished ? round((lastFinished - started) / 1000, 3) : null,
    timed_out: !ok,
    tasks_succeeded: tracker.succeeded,
    execution_latency_ms: distribution(latencies),
    rss_mb: sampler.stop(),
    server_memory: await system.nats.memory().catch(() => null),
    snapshots,
    statuses: statusCounts(tracker, ids),
    ...usage,
  };
}
