import type { StoredEvent } from '@orchestra/bus';
import { MessageIds, Subjects, type Timer } from '@orchestra/contracts';
import { deadlineTimerDue, type ExecutionState, type TaskState } from '@orchestra/execution';

/**
 * `orchestra doctor`'s judgement, pure (docs/audit.md, "Stuck runs"): what a running execution's
 * log says must be on the bus (as libs/execution inFlightEffects derives it) against what is
 * there. The I/O that reads both is in ./scan.ts.
 */

/** What one execution has on the bus right now. */
export interface BusSnapshot {
  /**
   * The `Nats-Msg-Id` of every DispatchTask stored on ORCHESTRA_TASKS for the plugins concerned,
   * a repair's copy counted as the original (see baseMessageId).
   */
  dispatches: ReadonlySet<string>;
  /** `task_id:attempt_number` of every TaskOutcome of the execution waiting on ORCHESTRA_OUTCOMES. */
  outcomes: ReadonlySet<string>;
  /** Every timer of the execution waiting on ORCHESTRA_TIMERS. */
  timers: readonly Timer[];
}

export type MissingEffect =
  | { kind: 'dispatch'; subject: string; msg_id: string }
  | { kind: 'deadline-timer'; subject: string; due_at: number }
  | { kind: 'retry-timer'; subject: string; attempt_number: number; due_at: number };

export interface StuckTask {
  task_id: string;
  phase_id: string;
  status: 'running' | 'retry_wait';
  /** The running attempt, or the one the retry timer is for. */
  attempt_number: number;
  plugin: string | null;
  missing: MissingEffect[];
}

/**
 * The stream sequence of the record that last asked for each task's effects: its dispatch
 * (TaskDispatched), its retry (TaskRetryScheduled), or a repair naming it (or naming none, which
 * covers every task). Until the outbox has acknowledged that record its effects may still be on
 * their way, and their absence proves nothing.
 */
export function effectRecords(events: readonly StoredEvent[]): Map<string, number> {
  const seqs = new Map<string, number>();
  let repairOfAll = 0;
  for (const { seq, event } of events) {
    if (event.type === 'TaskDispatched' || event.type === 'TaskRetryScheduled') seqs.set(event.task_id, seq);
    else if (event.type === 'ExecutionRepaired') {
      if (event.tasks.length === 0) repairOfAll = seq;
      for (const task of event.tasks) seqs.set(task, seq);
    }
  }
  if (repairOfAll > 0) for (const [task, seq] of seqs) seqs.set(task, Math.max(seq, repairOfAll));
  return seqs;
}

/**
 * Tasks of a running execution whose progress needs a message that is not on the bus: a
 * running attempt without its DispatchTask (unless its outcome already waits) or without its
 * deadline timer, a retry without its timer. `published(task)` tells whether the record that asked
 * for the task's effects has been through the outbox; one that has not is not judged.
 */
export function stuckTasks(
  state: ExecutionState,
  snapshot: BusSnapshot,
  published: (task: TaskState) => boolean,
): StuckTask[] {
  if (state.status !== 'running' || !state.execution_id) return [];
  const id = state.execution_id;
  const timers = Subjects.timers(id);
  const stuck: StuckTask[] = [];
  for (const task of Object.values(state.tasks)) {
    if ((task.status !== 'running' && task.status !== 'retry_wait') || !published(task)) continue;
    const missing: MissingEffect[] = [];
    if (task.status === 'running') {
      if (snapshot.outcomes.has(`${task.task_id}:${task.attempt_number}`)) continue;
      const msgId = MessageIds.dispatch(id, task.task_id, task.attempt_number);
      if (!snapshot.dispatches.has(msgId))
        missing.push({ kind: 'dispatch', subject: Subjects.tasks(task.plugin ?? ''), msg_id: msgId });
      const due = deadlineTimerDue(task);
      if (!snapshot.timers.some((timer) => timer.kind === 'deadline' && timer.due_at === due))
        missing.push({ kind: 'deadline-timer', subject: timers, due_at: due });
    } else {
      const attempt = task.attempt_number + 1;
      const waiting = snapshot.timers.some(
        (timer) =>
          timer.kind === 'retry' && timer.task_id === task.task_id && timer.attempt_number === attempt,
      );
      if (!waiting)
        missing.push({
          kind: 'retry-timer',
          subject: timers,
          attempt_number: attempt,
          due_at: task.retry_due_at ?? 0,
        });
    }
    if (missing.length > 0)
      stuck.push({
        task_id: task.task_id,
        phase_id: task.phase_id,
        status: task.status,
        attempt_number: task.status === 'running' ? task.attempt_number : task.attempt_number + 1,
        plugin: task.plugin,
        missing,
      });
  }
  return stuck;
}

/**
 * Keeps the tasks found stuck that are in the same place in a later read of the log: the bus was
 * read between the two, so what it lacked was neither consumed into a decision (that decision
 * would show) nor published late (the outbox had acknowledged it before).
 */
export function stillStuck(found: readonly StuckTask[], later: ExecutionState): StuckTask[] {
  if (later.status !== 'running') return [];
  return found.filter((task) => {
    const now = later.tasks[task.task_id];
    if (!now || now.status !== task.status) return false;
    return (now.status === 'running' ? now.attempt_number : now.attempt_number + 1) === task.attempt_number;
  });
}

/** The id a message was first published under: a repair's copy (MessageIds.repaired) names it. */
export function baseMessageId(msgId: string): string {
  return msgId.replace(/:repair-\d+$/, '');
}

/** The plugins whose queues hold the dispatches of running attempts. */
export function pluginsInFlight(state: ExecutionState): string[] {
  const plugins = new Set<string>();
  for (const task of Object.values(state.tasks))
    if (task.status === 'running' && task.plugin) plugins.add(task.plugin);
  return [...plugins];
}
