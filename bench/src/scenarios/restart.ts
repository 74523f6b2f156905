import { chainPlan } from '../plans.js';
import { epochMs, sleep } from '../procs.js';
import { type Distribution, distribution, round } from '../stats.js';
import type { OrchestraSystem } from '../system.js';
import { statusCounts } from './orchestra.js';
import { Tracker } from './tracker.js';

export interface OrchestraRestart {
  executions: number;
  steps_each: number;
  /** Executions started and not finished when the orchestrator was killed. */
  in_flight_at_kill: number;
  /** Tasks that had succeeded (over all executions) at the kill. */
  tasks_done_at_kill: number;
  /** kill -9 -> the new orchestrator process says it is up (process start, Nest, consumers). */
  boot_seconds: number;
  /** kill -9 -> the first event appended by the new orchestrator. */
  first_progress_seconds: number | null;
  /** kill -9 -> every execution in flight at the kill has a new event: the recovery time. */
  all_progressed_seconds: number | null;
  /** kill -9 -> an execution's first new event, over the executions in flight. */
  progress_after_kill_ms: Distribution | null;
  /** kill -9 -> every execution has final results. */
  all_finished_seconds: number | null;
  /** Executions in flight that had made no progress when the run ended. */
  stuck: number;
  timed_out: boolean;
  /** Final results by status: a task that timed out while the orchestrator was down shows here. */
  statuses: Record<string, number>;
}

/**
 * S: `executions` chains of `steps` echo tasks run at once; once every one has started and about
 * one task per execution has succeeded, the orchestrator process is killed with SIGKILL and a new
 * one started at once (as a supervisor would). Recovery is the time from the kill until every
 * execution that was in flight has a new event on its subject.
 */
export async function orchestraRestart(
  system: OrchestraSystem,
  executions: number,
  steps: number,
  timeoutMs: number,
): Promise<OrchestraRestart> {
  const deadline = Date.now() + timeoutMs;
  const tracker = new Tracker(system);
  const plans = Array.from({ length: executions }, (_, e) => ({
    id: `bench-s-${e}`,
    plan: chainPlan(steps, 'bench-restart'),
  }));
  await tracker.submitAll(plans);
  // In flight: every execution started, about one step each done, most of the work still ahead.
  while (
    (tracker.startedAt.size < executions || tracker.succeeded < executions) &&
    tracker.finishedAt.size === 0 &&
    Date.now() < deadline
  ) {
    await sleep(10);
  }
  const orchestrator = system.services.get('orchestrator');
  if (!orchestrator) throw new Error('no orchestrator process');
  await orchestrator.kill();
  const killedAt = epochMs();
  tracker.mark(killedAt);
  const inFlight = plans
    .map(({ id }) => id)
    .filter((id) => tracker.startedAt.has(id) && !tracker.finishedAt.has(id));
  const tasksDone = tracker.succeeded;
  await system.startService('orchestrator');
  const upAt = epochMs();
  while (Date.now() < deadline && inFlight.some((id) => !tracker.firstAfterMark.has(id))) await sleep(10);
  const progress = inFlight
    .map((id) => tracker.firstAfterMark.get(id))
    .filter((at): at is number => at !== undefined)
    .map((at) => at - killedAt);
  const finished = await tracker.waitDone(executions, deadline);
  const finishTimes = plans.map(({ id }) => tracker.results(id)?.at ?? Number.NaN);
  const stuck = inFlight.length - progress.length;
  return {
    executions,
    steps_each: steps,
    in_flight_at_kill: inFlight.length,
    tasks_done_at_kill: tasksDone,
    boot_seconds: round((upAt - killedAt) / 1000, 3),
    first_progress_seconds: progress.length ? round(Math.min(...progress) / 1000, 3) : null,
    all_progressed_seconds: stuck === 0 && progress.length ? round(Math.max(...progress) / 1000, 3) : null,
    progress_after_kill_ms: distribution(progress),
    all_finished_seconds: finished ? round((Math.max(...finishTimes) - killedAt) / 1000, 3) : null,
    stuck,
    timed_out: !finished || stuck > 0,
    statuses: statusCounts(
      tracker,
      plans.map(({ id }) => id),
    ),
  };
}
