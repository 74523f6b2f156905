import { isDeepStrictEqual } from 'node:util';
import type { Plan, Task } from '@orchestra/contracts';

/** One field that differs, by its path inside the task (or the plan). */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface TaskChange {
  /** `phase_id.task_id` in the corrected plan. */
  task: string;
  fields: FieldChange[];
}

export interface PlanDiff {
  /** Whether both plans have the same task ids (a re-run keeps them; the orchestrator refuses others). */
  sameTasks: boolean;
  /** Tasks whose definition changed, in the corrected plan's order: they run again. */
  tasks: TaskChange[];
  /** Changes outside the tasks' definitions (plan id, phases' settings): none makes a task run again. */
  plan: FieldChange[];
}

/**
 * What a corrected plan (`orchestra rerun --plan`) changes in the source's plan, both validated
 * (defaults filled in, so a default written out is no change). A task changed when its phase or
 * any field of its definition differs, as JSON values: keys listed in another order are no
 * change (the orchestrator's rule, libs/execution rerun.ts).
 */
export function diffPlans(source: Plan, corrected: Plan): PlanDiff {
  const before = tasksOf(source);
  const after = tasksOf(corrected);
  const sameTasks = before.size === after.size && [...after.keys()].every((id) => before.has(id));
  const tasks: TaskChange[] = [];
  for (const [id, now] of after) {
    const then = before.get(id);
    if (!then) continue;
    const fields: FieldChange[] = [];
    if (then.phase_id !== now.phase_id)
      fields.push({ path: 'phase', before: then.phase_id, after: now.phase_id });
    fields.push(...diffValues(then.task, now.task, ''));
    if (fields.length > 0) tasks.push({ task: `${now.phase_id}.${id}`, fields });
  }
  return { sameTasks, tasks, plan: diffValues(withoutTasks(source), withoutTasks(corrected), '') };
}

/** The changes from `before` to `after`, recursing into objects and into arrays of objects. */
export function diffValues(before: unknown, after: unknown, path: string): FieldChange[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => diffValues(before[key], after[key], join(path, key)));
  }
  if (
    Array.isArray(before) &&
    Array.isArray(after) &&
    before.length === after.length &&
    [...before, ...after].some(isPlainObject)
  )
    return before.flatMap((item, index) => diffValues(item, after[index], `${path}[${index}]`));
  return [{ path: path || '(all)', before, after }];
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** `path: before → after`, values as compact JSON (long ones shortened). */
export function describeChange(change: FieldChange): string {
  return `${change.path}: ${shown(change.before)} → ${shown(change.after)}`;
}

function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function tasksOf(plan: Plan): Map<string, { phase_id: string; task: Task }> {
  return new Map(
    plan.phases.flatMap((phase) =>
      phase.tasks.map((task) => [task.task_id, { phase_id: phase.phase_id, task }] as const),
    ),
  );
}

/** The plan with each phase's tasks reduced to their ids (their definitions are diffed apart). */
function withoutTasks(plan: Plan): unknown {
  return {
    ...plan,
    phases: plan.phases.map((phase) => ({ ...phase, tasks: phase.tasks.map((task) => task.task_id) })),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
