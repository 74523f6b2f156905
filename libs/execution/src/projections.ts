import type {
  AttemptResult,
  ExecutionContext,
  ExecutionResults,
  ExecutionStatus,
  PhaseResult,
  Summary,
  TaskResult,
  TaskResultStatus,
  TokenTotals,
} from '@orchestra/contracts';
import type { AttemptRecord, ExecutionState, PhaseState, TaskState, TaskStatus } from './state.js';

/**
 * The seed's `execution_results`, computed from the folded state. The results service stores
 * it and replay recomputes it: both call this one function.
 */
export function toExecutionResults(state: ExecutionState, executionId?: string): ExecutionResults {
  const execution_id = state.execution_id ?? executionId ?? 'unknown';
  const phases: PhaseResult[] = (state.plan?.phases ?? []).map((phase) => {
    const phaseState = state.phases[phase.phase_id] as PhaseState;
    return {
      phase_id: phase.phase_id,
      status: phaseState.result ?? (phaseState.status === 'running' ? 'running' : 'pending'),
      tasks: phase.tasks.map((task) =>
        taskResult(state.tasks[task.task_id] as TaskState, state.status === 'finished'),
      ),
    };
  });
  return {
    execution_id,
    plan_id: state.plan?.plan_id ?? null,
    status: executionStatus(state),
    ...(state.rerun_of ? { rerun_of: state.rerun_of } : {}),
    duration_ms:
      state.finished_at !== null && state.started_at !== null ? state.finished_at - state.started_at : null,
    started_at: isoOrNull(state.started_at),
    finished_at: isoOrNull(state.finished_at),
    phases,
    summary: summarize(phases),
    errors: executionErrors(state),
  };
}

/** The seed's step-1 `execution_context`: where the run is and what it has produced. */
export function toExecutionContext(state: ExecutionState, executionId?: string): ExecutionContext {
  const phaseIds = state.plan?.phases.map((phase) => phase.phase_id) ?? [];
  const running = phaseIds.filter((id) => state.phases[id]?.status === 'running');
  const task_outputs: ExecutionContext['task_outputs'] = {};
  const outputs_by_task: ExecutionContext['outputs_by_task'] = {};
  for (const task of Object.values(state.tasks)) {
    if (task.status !== 'success') continue;
    const key = state.index?.tasks[task.task_id]?.task.output_key ?? task.task_id;
    task_outputs[key] = task.output ?? null;
    outputs_by_task[task.task_id] = task.output ?? null;
  }
  return {
    execution_id: state.execution_id ?? executionId ?? 'unknown',
    plan_id: state.plan?.plan_id ?? null,
    start_time: isoOrNull(state.started_at),
    state: executionStatus(state),
    current_phase: running[0] ?? null,
    running_phases: running,
    completed_phases: phaseIds.filter((id) => state.phases[id]?.status === 'finished'),
    task_outputs,
    outputs_by_task,
    errors: [
      ...(state.rejection?.issues.map((issue) => ({
        phase_id: null,
        task_id: null,
        attempt_number: null,
        error: `${issue.path}: ${issue.message}`,
      })) ?? []),
      ...state.errors,
    ],
  };
}

export function executionStatus(state: ExecutionState): ExecutionStatus {
  switch (state.status) {
    case 'new':
      return 'pending';
    case 'rejected':
      return 'rejected';
    case 'running':
      return 'running';
    case 'finished':
      return state.result ?? 'completed';
    default: {
      const _exhaustive: never = state.status;
      return _exhaustive;
    }
  }
}

const RESULT_STATUS: Record<TaskStatus, TaskResultStatus> = {
  pending: 'pending',
  running: 'running',
  attempt_failed: 'running',
  retry_wait: 'running',
  success: 'success',
  failed: 'failed',
  timeout: 'timeout',
  skipped: 'skipped',
};

function taskResult(task: TaskState, finished: boolean): TaskResult {
  const succeeded = task.status === 'success';
  let usage: TokenTotals | undefined;
  for (const attempt of task.attempts) if (attempt.usage) usage = sumTokens(usage, attempt.usage);
  return {
    task_id: task.task_id,
    status: RESULT_STATUS[task.status],
    plugin_used: task.plugin,
    attempt_number: task.attempt_number,
    duration_ms: task.duration_ms,
    output: succeeded ? task.output : null,
    error: succeeded ? null : task.error,
    attempts: task.attempts.map((attempt) => attemptResult(attempt, finished)),
    ...(task.reused_from ? { reused_from: task.reused_from } : {}),
    ...(usage ? { usage } : {}),
  };
}

function attemptResult(attempt: AttemptRecord, finished: boolean): AttemptResult {
  const { dispatched_at, status, ...rest } = attempt;
  return {
    ...rest,
    // A run that ended while an attempt was out left that attempt's outcome unrecorded.
    status: status === 'running' && finished ? 'abandoned' : status,
    dispatched_at: new Date(dispatched_at).toISOString(),
  };
}

/** Token totals stay absent until an attempt called a model. */
function sumTokens(totals: TokenTotals | undefined, add: TokenTotals): TokenTotals {
  return {
    input_tokens: (totals?.input_tokens ?? 0) + add.input_tokens,
    output_tokens: (totals?.output_tokens ?? 0) + add.output_tokens,
  };
}

function summarize(phases: PhaseResult[]): Summary {
  const summary: Summary = { total_tasks: 0, successful: 0, failed: 0, skipped: 0, timeout: 0 };
  let usage: TokenTotals | undefined;
  for (const phase of phases) {
    for (const task of phase.tasks) {
      summary.total_tasks += 1;
      if (task.status === 'success') summary.successful += 1;
      else if (task.status === 'failed') summary.failed += 1;
      else if (task.status === 'skipped') summary.skipped += 1;
      else if (task.status === 'timeout') summary.timeout += 1;
      if (task.usage) usage = sumTokens(usage, task.usage);
    }
  }
  return usage ? { ...summary, usage } : summary;
}

function executionErrors(state: ExecutionState): string[] {
  if (state.rejection) {
    return [
      state.rejection.reason,
      ...state.rejection.issues.map((issue) => `${issue.path}: ${issue.message}`),
    ];
  }
  return state.stopping ? [state.stopping.reason] : [];
}

function isoOrNull(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/**
 * `execution_results` made to fit `maxBytes` as JSON (a bucket value is one message): task
 * outputs are left out largest first, then errors, and as a last resort the task lists, each
 * named in `omitted`. Deterministic, so a replay that applies it to recomputed results can
 * compare them with the stored ones.
 */
export function fitResults(results: ExecutionResults, maxBytes: number): ExecutionResults {
  const size = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;
  let total = size(results);
  if (total <= maxBytes) return results;
  const phases = results.phases.map((phase) => ({
    ...phase,
    tasks: phase.tasks.map((task) => ({ ...task })),
  }));
  const omitted = { outputs: [] as string[], errors: [] as string[], tasks: false };
  const tasks = phases.flatMap((phase) => phase.tasks);
  const shrink = (field: 'output' | 'error', into: string[]) => {
    const bySize = tasks
      .filter((task) => task[field] !== null)
      .map((task) => ({ task, bytes: size(task[field]) }))
      .sort((a, b) => b.bytes - a.bytes || a.task.task_id.localeCompare(b.task.task_id));
    for (const { task, bytes } of bySize) {
      if (total <= maxBytes) return;
      task[field] = null;
      into.push(task.task_id);
      total -= bytes - 4;
    }
  };
  shrink('output', omitted.outputs);
  shrink('error', omitted.errors);
  const fitted: ExecutionResults = { ...results, phases, omitted };
  if (size(fitted) <= maxBytes) return fitted;
  return {
    ...fitted,
    phases: phases.map((phase) => ({ ...phase, tasks: [] })),
    omitted: { ...omitted, tasks: true },
  };
}
