import type { DispatchTask, ExecutionEvent, Timer } from '@orchestra/contracts';
import type { ExecutionState, TaskIndexEntry, TaskState } from './state.js';
import { isTerminal } from './state.js';

/**
 * What the orchestrator must do on the bus after appending events: never before. `repair` is set
 * on what a repair publishes again (MessageIds.repaired names it apart from the original).
 */
export type Effect =
  | { kind: 'dispatch'; command: DispatchTask; repair?: number }
  | { kind: 'timer'; timer: Timer; repair?: number }
  | { kind: 'cancel-notice'; execution_id: string };

/**
 * Effects of freshly appended events, given the state after them. A dispatch or timer that a
 * later event of the same batch already made moot (a task skipped by an abort) is left out.
 * Attempts dispatched together with the same deadline share one deadline timer (see
 * `deadlineTimers`): a wide phase costs one timer, not one per task.
 */
export function effectsOf(state: ExecutionState, events: readonly ExecutionEvent[]): Effect[] {
  const effects: Effect[] = [];
  const dispatched: TaskState[] = [];
  let cancelNotice = false;
  for (const event of events) {
    if (event.type === 'TaskDispatched') {
      const task = state.tasks[event.task_id];
      if (task?.status === 'running' && task.attempt_number === event.attempt_number) {
        effects.push({ kind: 'dispatch', command: dispatchCommand(state, task) });
        dispatched.push(task);
      }
    } else if (event.type === 'TaskRetryScheduled') {
      const task = state.tasks[event.task_id];
      if (task?.status === 'retry_wait' && task.attempt_number + 1 === event.next_attempt_number) {
        effects.push({ kind: 'timer', timer: retryTimer(state, task) });
      }
    } else if (event.type === 'ExecutionCancelled' || event.type === 'TaskGaveUp') {
      cancelNotice = true;
    } else if (event.type === 'ExecutionRepaired' && event.repair === state.repairs) {
      effects.push(...repairEffects(state, event.tasks, event.repair));
    }
  }
  effects.push(...deadlineTimers(state, dispatched));
  if (cancelNotice && state.execution_id)
    effects.push({ kind: 'cancel-notice', execution_id: state.execution_id });
  return effects;
}

/** Events whose effects (a dispatch, a timer, a cancel notice) go out on the bus. */
const EFFECTFUL = new Set<ExecutionEvent['type']>([
  'TaskDispatched',
  'TaskRetryScheduled',
  'ExecutionCancelled',
  'TaskGaveUp',
  'ExecutionRepaired',
]);

/**
 * What the outbox publishes for one stored record, judged against the execution's current state
 * (at least as new as the record): the same as `effectsOf`, minus what has become moot since (a
 * dispatch whose attempt already ended is not sent again). This is how effects lost in a crash
 * between append and publish go out after a restart: the record is redelivered to the outbox.
 */
export function outboxEffects(state: ExecutionState, record: readonly ExecutionEvent[]): Effect[] {
  return hasEffects(record) ? effectsOf(state, record) : [];
}

/** Whether a record asks for anything on the bus (cheap: no state needed to tell). */
export function hasEffects(record: readonly ExecutionEvent[]): boolean {
  return record.some((event) => EFFECTFUL.has(event.type));
}

/**
 * Every effect the current state still needs (for the tasks `only` accepts): a dispatch per
 * running attempt, their deadline timers and a timer per waiting retry. What `orchestra doctor`
 * expects to find on the bus, and what a repair publishes again.
 */
export function inFlightEffects(
  state: ExecutionState,
  only: (task: TaskState) => boolean = () => true,
): Effect[] {
  if (state.status !== 'running') return [];
  const effects: Effect[] = [];
  const running: TaskState[] = [];
  for (const task of Object.values(state.tasks)) {
    if (!only(task)) continue;
    if (task.status === 'running') {
      effects.push({ kind: 'dispatch', command: dispatchCommand(state, task) });
      running.push(task);
    } else if (task.status === 'retry_wait') effects.push({ kind: 'timer', timer: retryTimer(state, task) });
  }
  effects.push(...deadlineTimers(state, running));
  return effects;
}

/**
 * What a repair publishes again: what inFlightEffects would for the named tasks (every task when
 * none are named), marked with the repair's number. Judged against the current state like any
 * effect, so a task that moved on since the repair was decided is left alone.
 */
function repairEffects(state: ExecutionState, tasks: readonly string[], repair: number): Effect[] {
  const named = new Set(tasks);
  const chosen = (task: TaskState) => named.size === 0 || named.has(task.task_id);
  return inFlightEffects(state, chosen).map((effect) =>
    effect.kind === 'cancel-notice' ? effect : { ...effect, repair },
  );
}

/**
 * One deadline timer per due time among `attempts`, named after the first attempt with it. An
 * attempt's timer is due at its deadline rounded up to a tenth of its timeout (at least 10 ms,
 * at most 1 s), so the attempts of an execution whose deadlines fall close together share one
 * timer, and a timeout is noticed at most that much late. When the timer fires, the decider times
 * out every running attempt whose deadline has passed.
 */
function deadlineTimers(state: ExecutionState, attempts: readonly TaskState[]): Effect[] {
  const first = new Map<number, TaskState>();
  for (const task of attempts) {
    const due = deadlineTimerDue(task);
    if (!first.has(due)) first.set(due, task);
  }
  return [...first.entries()].map(([due_at, task]) => ({
    kind: 'timer',
    timer: {
      type: 'Timer',
      kind: 'deadline',
      execution_id: state.execution_id as string,
      task_id: task.task_id,
      attempt_number: task.attempt_number,
      due_at,
    },
  }));
}

/** When the deadline timer of a running attempt is due: see deadlineTimers. */
export function deadlineTimerDue(task: TaskState): number {
  const deadline = task.deadline_at ?? 0;
  const timeout = deadline - (task.dispatched_at ?? deadline);
  const step = Math.min(1000, Math.max(10, Math.floor(timeout / 10)));
  return Math.ceil(deadline / step) * step;
}

function dispatchCommand(state: ExecutionState, task: TaskState): DispatchTask {
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
  return command;
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
 * Whether a state shows a timer to be moot before it is due: its retry was dispatched, its task
 * or execution finished. A state may lag behind the event that set the timer (a cache that
 * another replica moved past), so an attempt it has not seen start never makes a timer moot. A
 * deadline timer stands for every attempt whose deadline falls due with it, dispatched by any
 * decision: only the end of the execution makes it moot early.
 */
export function timerIsMoot(state: ExecutionState, timer: Timer): boolean {
  if (state.status === 'finished' || state.status === 'rejected') return true;
  if (state.status !== 'running' || timer.kind === 'deadline') return false;
  const task = state.tasks[timer.task_id];
  return !task || isTerminal(task.status) || task.attempt_number >= timer.attempt_number;
}
