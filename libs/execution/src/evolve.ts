import type { ExecutionEvent } from '@orchestra/contracts';
import { buildPlanIndex } from './plan-index.js';
import type { AttemptRecord, ExecutionError, ExecutionState, PhaseState, TaskState } from './state.js';
import { emptyCounts, initialState, isTerminal } from './state.js';

/** A state whose containers the caller owns and may change; entries stay immutable. */
type Draft = { -readonly [K in keyof ExecutionState]: ExecutionState[K] } & {
  phases: Record<string, PhaseState>;
  tasks: Record<string, TaskState>;
  errors: ExecutionError[];
};

/** Copies the containers of a state (not its entries), so applying events to it leaves `state` intact. */
export function draftOf(state: ExecutionState): ExecutionState {
  return { ...state, phases: { ...state.phases }, tasks: { ...state.tasks }, errors: [...state.errors] };
}

/** The one fold: evolve(state, event) -> state. Pure, and it never throws. */
export function evolve(state: ExecutionState, event: ExecutionEvent): ExecutionState {
  return applyInPlace(draftOf(state), event);
}

/** Folds events onto `from` (default: the initial state) without changing `from`. */
export function fold(
  events: Iterable<ExecutionEvent>,
  from: ExecutionState = initialState(),
): ExecutionState {
  let draft = draftOf(from);
  for (const event of events) draft = applyInPlace(draft, event);
  return draft;
}

/**
 * A fold that grows event by event without copying the state each time (as `evolve` must): for
 * readers of a long log or of many records of one execution. `state` is the fold so far; it is
 * changed by the next `apply`, so read it, do not keep it.
 */
export class ExecutionFold {
  private readonly draft: ExecutionState;

  constructor(from: ExecutionState = initialState()) {
    this.draft = draftOf(from);
  }

  apply(events: Iterable<ExecutionEvent>): this {
    for (const event of events) applyInPlace(this.draft, event);
    return this;
  }

  get state(): ExecutionState {
    return this.draft;
  }
}

/**
 * Applies one event to a draft made by `draftOf`, changing its containers in place (entries are
 * replaced, never mutated). Events that do not fit the state (unknown task, wrong order) only
 * advance the version: the log is the truth and the fold must accept any log.
 */
export function applyInPlace(state: ExecutionState, event: ExecutionEvent): ExecutionState {
  const draft = state as Draft;
  draft.version += 1;
  switch (event.type) {
    case 'ExecutionRejected':
      if (draft.status !== 'new') break;
      draft.execution_id = event.execution_id;
      draft.status = 'rejected';
      draft.rejection = { reason: event.reason, issues: event.issues };
      draft.started_at = event.at;
      draft.finished_at = event.at;
      break;
    case 'ExecutionStarted':
      if (draft.status !== 'new') break;
      startExecution(draft, event.execution_id, event.plan, event.at);
      draft.rerun_of = event.rerun_of ?? null;
      break;
    case 'PhaseStarted':
      updatePhase(draft, event.phase_id, (phase) =>
        phase.status === 'pending' ? { ...phase, status: 'running', started_at: event.at } : phase,
      );
      break;
    case 'TaskDispatched':
      updateTask(draft, event.task_id, (task) => ({
        status: 'running',
        attempt_number: event.attempt_number,
        kind: event.kind,
        plugin: event.plugin,
        dispatched_at: event.at,
        deadline_at: event.deadline_at,
        input_context: event.input_context,
        retry_due_at: null,
        last_retryable: true,
        attempts: [
          ...task.attempts,
          {
            attempt_number: event.attempt_number,
            kind: event.kind,
            plugin: event.plugin,
            status: 'running',
            dispatched_at: event.at,
            duration_ms: null,
          },
        ],
      }));
      break;
    case 'TaskSucceeded':
      if (!isCurrentAttempt(draft, event)) break;
      updateTask(draft, event.task_id, (task) => ({
        status: 'success',
        output: event.output,
        error: null,
        duration_ms: event.duration_ms,
        plugin: event.plugin_used,
        attempts: endAttempt(task, 'success', event),
      }));
      break;
    case 'TaskFailed':
      if (!isCurrentAttempt(draft, event)) break;
      updateTask(draft, event.task_id, (task) => ({
        status: 'attempt_failed',
        last_failure: 'failed',
        last_retryable: event.retryable !== false,
        error: event.error,
        duration_ms: event.duration_ms,
        plugin: event.plugin_used,
        attempts: endAttempt(task, 'failed', event),
      }));
      draft.errors.push({
        phase_id: event.phase_id,
        task_id: event.task_id,
        attempt_number: event.attempt_number,
        error: event.error,
      });
      break;
    case 'TaskTimedOut': {
      if (!isCurrentAttempt(draft, event)) break;
      const error = `attempt ${event.attempt_number} on ${event.plugin_used} timed out after ${event.duration_ms} ms`;
      updateTask(draft, event.task_id, (task) => ({
        status: 'attempt_failed',
        last_failure: 'timeout',
        last_retryable: true,
        error,
        duration_ms: event.duration_ms,
        attempts: endAttempt(task, 'timeout', event),
      }));
      draft.errors.push({
        phase_id: event.phase_id,
        task_id: event.task_id,
        attempt_number: event.attempt_number,
        error,
      });
      break;
    }
    case 'TaskRetryScheduled':
      updateTask(draft, event.task_id, () => ({ status: 'retry_wait', retry_due_at: event.due_at }));
      break;
    case 'TaskSkipped':
      updateTask(draft, event.task_id, (task) => ({
        status: 'skipped',
        error: task.error ?? event.reason,
        retry_due_at: null,
      }));
      break;
    case 'TaskReused':
      updateTask(draft, event.task_id, (task) =>
        task.status === 'pending' && task.phase_id === event.phase_id
          ? {
              status: 'success',
              output: event.output,
              plugin: event.plugin_used,
              attempt_number: event.attempt_number,
              duration_ms: event.duration_ms,
              reused_from: { execution_id: event.source_execution_id, seq: event.source_seq },
            }
          : {},
      );
      break;
    case 'TaskGaveUp':
      updateTask(draft, event.task_id, () => ({ status: event.status, retry_due_at: null }));
      if (!draft.stopping) draft.stopping = { status: 'failed', reason: event.reason };
      break;
    case 'OutcomeIgnored':
      draft.ignored += 1;
      break;
    case 'PhaseFinished':
      updatePhase(draft, event.phase_id, (phase) => ({
        ...phase,
        status: 'finished',
        result: event.status,
        finished_at: event.at,
      }));
      break;
    case 'ExecutionRepaired':
      draft.repairs = Math.max(draft.repairs, event.repair);
      break;
    case 'ExecutionCancelled':
      if (draft.status === 'running' && !draft.stopping)
        draft.stopping = { status: 'cancelled', reason: event.reason };
      break;
    case 'ExecutionFinished':
      if (draft.status !== 'running') break;
      draft.status = 'finished';
      draft.result = event.status;
      draft.finished_at = event.at;
      break;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
  return draft;
}

function startExecution(
  draft: Draft,
  execution_id: string,
  plan: ExecutionState['plan'] & object,
  at: number,
) {
  const index = buildPlanIndex(plan);
  draft.execution_id = execution_id;
  draft.status = 'running';
  draft.plan = plan;
  draft.index = index;
  draft.started_at = at;
  for (const phase of plan.phases) {
    draft.phases[phase.phase_id] = {
      phase_id: phase.phase_id,
      status: 'pending',
      result: null,
      started_at: null,
      finished_at: null,
      counts: { ...emptyCounts(), pending: phase.tasks.length },
    };
    for (const task of phase.tasks) {
      draft.tasks[task.task_id] = {
        task_id: task.task_id,
        phase_id: phase.phase_id,
        status: 'pending',
        attempt_number: 0,
        kind: null,
        plugin: null,
        dispatched_at: null,
        deadline_at: null,
        input_context: null,
        retry_due_at: null,
        last_failure: null,
        last_retryable: true,
        attempts: [],
        reused_from: null,
        output: null,
        error: null,
        duration_ms: null,
      };
    }
  }
}

/**
 * An attempt's end applies only to the attempt that is running: the decider never records any
 * other, and a forged or misplaced one in the log must not move a task it does not describe.
 */
function isCurrentAttempt(
  draft: Draft,
  event: { task_id: string; phase_id: string; attempt_number: number },
) {
  const task = draft.tasks[event.task_id];
  return (
    task !== undefined &&
    task.status === 'running' &&
    task.phase_id === event.phase_id &&
    task.attempt_number === event.attempt_number
  );
}

/** The task's attempts with the current (last) one ended as the event says. */
function endAttempt(
  task: TaskState,
  status: AttemptRecord['status'],
  event: { duration_ms: number; code?: string; retryable?: false; usage?: AttemptRecord['usage'] },
): AttemptRecord[] {
  const attempts = task.attempts.slice();
  const current = attempts[attempts.length - 1];
  if (!current) return attempts;
  attempts[attempts.length - 1] = {
    ...current,
    status,
    duration_ms: event.duration_ms,
    ...(event.code !== undefined ? { error_code: event.code } : {}),
    ...(event.retryable === false ? { retryable: false as const } : {}),
    ...(event.usage !== undefined ? { usage: event.usage } : {}),
  };
  return attempts;
}

function updatePhase(draft: Draft, phase_id: string, change: (phase: PhaseState) => PhaseState) {
  const phase = draft.phases[phase_id];
  if (phase) draft.phases[phase_id] = change(phase);
}

/** Replaces a task entry and keeps its phase's counters in step with the status change. */
function updateTask(draft: Draft, task_id: string, change: (task: TaskState) => Partial<TaskState>) {
  const task = draft.tasks[task_id];
  if (!task || isTerminal(task.status)) return;
  const next = { ...task, ...change(task) };
  draft.tasks[task_id] = next;
  if (next.status !== task.status) {
    updatePhase(draft, task.phase_id, (phase) => ({
      ...phase,
      counts: {
        ...phase.counts,
        [task.status]: phase.counts[task.status] - 1,
        [next.status]: phase.counts[next.status] + 1,
      },
    }));
  }
}
