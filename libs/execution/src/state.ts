import type {
  ExecutionFinished,
  Issue,
  JsonObject,
  JsonValue,
  PartialFailurePolicy,
  PhaseFinished,
  Plan,
  Reference,
  Task,
  TaskUsage,
} from '@orchestra/contracts';

/**
 * `attempt_failed` is the moment between an attempt's failure (or timeout) and the decision
 * about it (retry, fallback, skip or give up); the decider resolves it in the same step.
 */
export type TaskStatus =
  | 'pending'
  | 'running'
  | 'attempt_failed'
  | 'retry_wait'
  | 'success'
  | 'failed'
  | 'timeout'
  | 'skipped';

export const TASK_STATUSES: readonly TaskStatus[] = [
  'pending',
  'running',
  'attempt_failed',
  'retry_wait',
  'success',
  'failed',
  'timeout',
  'skipped',
];
export type AttemptKind = 'first' | 'retry' | 'fallback';

/** One dispatched attempt as the log tells it; `status` is `running` until its end is folded. */
export interface AttemptRecord {
  readonly attempt_number: number;
  readonly kind: AttemptKind;
  readonly plugin: string;
  readonly status: 'running' | 'success' | 'failed' | 'timeout';
  readonly dispatched_at: number;
  readonly duration_ms: number | null;
  readonly error_code?: string;
  readonly retryable?: false;
  readonly usage?: TaskUsage;
}

/** One task as the fold sees it. Entries are replaced, never mutated, so states can share them. */
export interface TaskState {
  readonly task_id: string;
  readonly phase_id: string;
  readonly status: TaskStatus;
  /** The last attempt dispatched (0 before the first). */
  readonly attempt_number: number;
  readonly kind: AttemptKind | null;
  readonly plugin: string | null;
  readonly dispatched_at: number | null;
  readonly deadline_at: number | null;
  /** Resolved input of the last dispatch, reused by retries and the fallback. */
  readonly input_context: JsonObject | null;
  readonly retry_due_at: number | null;
  readonly last_failure: 'failed' | 'timeout' | null;
  /** False when the last attempt failed in a way retrying on the same plugin cannot help. */
  readonly last_retryable: boolean;
  /** Every attempt so far, oldest first. */
  readonly attempts: readonly AttemptRecord[];
  /** In a re-run, where a reused task's output came from (it ran no attempt here). */
  readonly reused_from: { readonly execution_id: string; readonly seq: number } | null;
  readonly output: JsonValue | null;
  readonly error: string | null;
  readonly duration_ms: number | null;
}

export type PhaseResultStatus = PhaseFinished['status'];

export interface PhaseState {
  readonly phase_id: string;
  readonly status: 'pending' | 'running' | 'finished';
  readonly result: PhaseResultStatus | null;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  /** Tasks per status, kept by the fold so the decider need not scan every task on every input. */
  readonly counts: Readonly<Record<TaskStatus, number>>;
}

export interface TaskIndexEntry {
  readonly task: Task;
  readonly phase_id: string;
  readonly position: number;
  readonly policy: PartialFailurePolicy;
  /** Tasks that must have ended before this one may start. */
  readonly waitFor: readonly string[];
  /** Tasks that must have succeeded, or this one is skipped: depends_on and referenced tasks. */
  readonly needSuccess: readonly string[];
  readonly hasReferences: boolean;
}

/** Derived once from the plan when the execution starts; shared, never changed. */
export interface PlanIndex {
  readonly phaseOrder: readonly string[];
  readonly phaseDeps: Readonly<Record<string, readonly string[]>>;
  readonly phaseTasks: Readonly<Record<string, readonly string[]>>;
  readonly tasks: Readonly<Record<string, TaskIndexEntry>>;
}

export interface ExecutionError {
  readonly phase_id: string | null;
  readonly task_id: string | null;
  readonly attempt_number: number | null;
  readonly error: string;
}

export interface ExecutionState {
  readonly execution_id: string | null;
  readonly status: 'new' | 'rejected' | 'running' | 'finished';
  readonly plan: Plan | null;
  readonly index: PlanIndex | null;
  /** The execution this one re-runs, if it is a re-run. */
  readonly rerun_of: string | null;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly result: ExecutionFinished['status'] | null;
  /** Set by an abort or a cancel: the run winds down and ends with this status. */
  readonly stopping: { readonly status: 'failed' | 'cancelled'; readonly reason: string } | null;
  readonly phases: Readonly<Record<string, PhaseState>>;
  readonly tasks: Readonly<Record<string, TaskState>>;
  readonly errors: readonly ExecutionError[];
  readonly rejection: { readonly reason: string; readonly issues: readonly Issue[] } | null;
  readonly ignored: number;
  /** How many repairs (ExecutionRepaired) were applied: the next one's number is one more. */
  readonly repairs: number;
  /** How many events have been folded. */
  readonly version: number;
}

export function initialState(): ExecutionState {
  return {
    execution_id: null,
    status: 'new',
    plan: null,
    index: null,
    rerun_of: null,
    started_at: null,
    finished_at: null,
    result: null,
    stopping: null,
    phases: {},
    tasks: {},
    errors: [],
    rejection: null,
    ignored: 0,
    repairs: 0,
    version: 0,
  };
}

export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'success',
  'failed',
  'timeout',
  'skipped',
]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.has(status);
}

export function unfinishedCount(phase: PhaseState): number {
  const { counts } = phase;
  return counts.pending + counts.running + counts.attempt_failed + counts.retry_wait;
}

export function emptyCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as Record<TaskStatus, number>;
}

export type { Reference };
