import type { DispatchTask, ExecutionEvent, Timer } from '@orchestra/contracts';
import type { ExecutionState, TaskIndexEntry, TaskState } from './state.js';
import { isTerminal } from './state.js';

/** What the orchestrator must do on the bus after appending events: never before. */
export type Effect =
  | { kind: 'dispatch'; command: DispatchTask }
  | { kind: 'timer'; timer: Timer }
  | { kind: 'cancel-notice'; execution_id: string };

/**
 * Effects of freshly appended events, given the state after them. A dispatch or timer that a
 * later event of the same batch already made moot (a task skipped by an abort) is left out.
 */
export function effectsOf(state: ExecutionState, events: readonly ExecutionEvent[]): Effect[] {
  const effects: Effect[] = [];
  let cancelNotice = false;
  for (const event of events) {
    if (event.type === 'TaskDispatched') {
      const task = state.tasks[event.task_id];
      if (task?.status === 'running' && task.attempt_number === event.attempt_number) {
        effects.push(...attemptEffects(state, task));
      }
    } else if (event.type === 'TaskRetryScheduled') {
      const task = state.tasks[event.task_id];
      if (task?.status === 'retry_wait' && task.attempt_number + 1 === event.next_attempt_number) {
        effects.push({ kind: 'timer', timer: retryTimer(state, task) });
      }
    } else if (event.type === 'ExecutionCancelled' || event.type === 'TaskGaveUp') {
      cancelNotice = true;
    }
  }
  if (cancelNotice && state.execution_id)
    effects.push({ kind: 'cancel-notice', execution_id: state.execution_id });
  return effects;
}

/**
 * Every effect the current state still needs: a dispatch and deadline per running attempt and a
 * timer per waiting retry. Re-published after a crash between append and publish; message ids
 * make the repeats harmless.
 */
export function inFlightEffects(state: ExecutionState): Effect[] {
  if (state.status !== 'running') return [];
  const effects: Effect[] = [];
  for (const task of Object.values(state.tasks)) {
    if (task.status === 'running') effects.push(...attemptEffects(state, task));
    else if (task.status === 'retry_wait') effects.push({ kind: 'timer', timer: retryTimer(state, task) });
  }
  return effects;
}

function attemptEffects(state: ExecutionState, task: TaskState): Effect[] {
  const entry = state.index?.tasks[task.task_id] as TaskIndexEntry;
  const execution_id = state.execution_id as string;
  const deadline_at = task.deadline_at ?? 0;
  const command: DispatchTask = {
    type: 'DispatchTask',
    execution_id,
    plan_id: state.plan?.plan_id ?? '',
    phase_id: task.phase_id,
    task_id: task.task_id,
    attempt_number: task.attempt_number,
    plugin: task.plugin ?? entry.task.assigned_plugin,
    description: entry.task.description,
    entry_point: entry.task.entry_point,
    input_context: task.input_context ?? {},
    output_key: entry.task.output_key ?? task.task_id,
    dispatched_at: task.dispatched_at ?? 0,
    deadline_at,
  };
  const timer: Timer = {
    type: 'Timer',
    kind: 'deadline',
    execution_id,
    task_id: task.task_id,
    attempt_number: task.attempt_number,
    due_at: deadline_at,
  };
  return [
    { kind: 'dispatch', command },
    { kind: 'timer', timer },
  ];
}

function retryTimer(state: ExecutionState, task: TaskState): Timer {
  return {
    type: 'Timer',
    kind: 'retry',
    execution_id: state.execution_id as string,
    task_id: task.task_id,
    attempt_number: task.attempt_number + 1,
    due_at: task.retry_due_at ?? 0,
  };
}

/**
 * Whether a state shows a timer to be moot: its attempt ended, its retry was dispatched, its
 * task or execution finished. A state may lag behind the event that set the timer (a cache that
 * another replica moved past), so an attempt it has not seen start never makes a timer moot.
 */
export function timerIsMoot(state: ExecutionState, timer: Timer): boolean {
  if (state.status === 'finished' || state.status === 'rejected') return true;
  if (state.status !== 'running') return false;
  const task = state.tasks[timer.task_id];
  if (!task) return true;
  if (isTerminal(task.status)) return true;
  if (timer.kind === 'deadline') {
    const ended = task.attempt_number === timer.attempt_number && task.status !== 'running';
    return task.attempt_number > timer.attempt_number || ended;
  }
  return task.attempt_number >= timer.attempt_number;
}
