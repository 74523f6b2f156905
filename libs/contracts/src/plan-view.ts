import type { ExecutionMode } from './plan.js';

/**
 * What the checks beyond the shape (ids, dependencies, cycles, references, sizes) read of a plan.
 * A valid plan is one as it is; a plan whose shape is wrong is read leniently (`planView`), so
 * that `orchestra validate` lists every problem of every kind in one pass (README, Plans): an id
 * or a dependency that is not a string is left out (undefined) and the shape's issue says why.
 */
export interface TaskView {
  task_id: string | undefined;
  depends_on: ReadonlyArray<string | undefined>;
  input_context: unknown;
}

export interface PhaseView {
  phase_id: string | undefined;
  depends_on_phases: ReadonlyArray<string | undefined>;
  execution_mode: ExecutionMode;
  tasks: readonly TaskView[];
}

export interface PlanView {
  phases: readonly PhaseView[];
}

/** The parts of a plan-like value the checks can read, indexes kept; undefined if it is no object. */
export function planView(value: unknown): PlanView | undefined {
  if (!isRecord(value)) return undefined;
  return { phases: listOf(value.phases).map(phaseView) };
}

function phaseView(value: unknown): PhaseView {
  const phase = isRecord(value) ? value : {};
  return {
    phase_id: stringOrUndefined(phase.phase_id),
    depends_on_phases: listOf(phase.depends_on_phases).map(stringOrUndefined),
    execution_mode: phase.execution_mode === 'sequential' ? 'sequential' : 'parallel',
    tasks: listOf(phase.tasks).map(taskView),
  };
}

function taskView(value: unknown): TaskView {
  const task = isRecord(value) ? value : {};
  return {
    task_id: stringOrUndefined(task.task_id),
    depends_on: listOf(task.depends_on).map(stringOrUndefined),
    input_context: task.input_context,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
