import type {
  ExecutionContext,
  ExecutionResults,
  ExecutionStatus,
  PhaseResult,
  Summary,
  TaskResult,
  TaskResultStatus,
} from '@orchestra/contracts';
import type { ExecutionState, PhaseState, TaskState, TaskStatus } from './state.js';

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
      tasks: phase.tasks.map((task) => taskResult(state.tasks[task.task_id] as TaskState)),
    };
  });
  return {
    execution_id,
    plan_id: state.plan?.plan_id ?? null,
    status: executionStatus(state),
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
  for (const task of Object.values(state.tasks)) {
    if (task.status === 'success') task_outputs[task.task_id] = task.output ?? null;
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

function taskResult(task: TaskState): TaskResult {
  const succeeded = task.status === 'success';
  return {
    task_id: task.task_id,
    status: RESULT_STATUS[task.status],
    plugin_used: task.plugin,
    attempt_number: task.attempt_number,
    duration_ms: task.duration_ms,
    output: succeeded ? task.output : null,
    error: succeeded ? null : task.error,
  };
}

function summarize(phases: PhaseResult[]): Summary {
  const summary: Summary = { total_tasks: 0, successful: 0, failed: 0, skipped: 0, timeout: 0 };
  for (const phase of phases) {
    for (const task of phase.tasks) {
      summary.total_tasks += 1;
      if (task.status === 'success') summary.successful += 1;
      else if (task.status === 'failed') summary.failed += 1;
      else if (task.status === 'skipped') summary.skipped += 1;
      else if (task.status === 'timeout') summary.timeout += 1;
    }
  }
  return summary;
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
