import type { Issue, Plan, Task } from '@orchestra/contracts';
import { buildPlanIndex } from './plan-index.js';
import type { ExecutionState } from './state.js';

/**
 * What a re-run starts from, read from the source's log by the caller (the decider does no I/O):
 * its fold, and for each task that succeeded there the stream sequence of the record holding the
 * event that gave it its output (TaskSucceeded, or TaskReused when the source was itself a re-run).
 */
export interface RerunSource {
  execution_id: string;
  state: ExecutionState;
  outputSeq: Readonly<Record<string, number>>;
}

export interface ReusedTask {
  phase_id: string;
  task_id: string;
  seq: number;
}

export type RerunSelection =
  | {
      ok: true;
      /** Tasks whose source output is recorded as theirs, in plan order. */
      reused: ReusedTask[];
      /** Tasks that run again, in plan order, each with why. */
      runAgain: { phase_id: string; task_id: string; why: string }[];
    }
  | { ok: false; reason: string; issues: Issue[] };

/**
 * Which tasks of `plan` a re-run of `source` reuses and which run again: a task runs again when
 * it is named in `selected` (`phase_id.task_id`), did not succeed in the source, has a definition that
 * differs from the source's (a corrected plan), or depends (depends_on or a reference, through
 * any chain) on a task that runs again. Every other task is reused. Refused, with every problem,
 * when the source has no log or is still running, or when the plan's task ids differ from the
 * source's. Pure: the same source, plan and selection give the same answer.
 */
export function selectRerun(source: RerunSource, plan: Plan, selected: readonly string[]): RerunSelection {
  const from = source.state;
  if (from.status === 'new' || !from.plan)
    return refused(
      `execution "${source.execution_id}" has no events (never started, or past the events' retention)`,
    );
  if (from.status === 'rejected')
    return refused(`execution "${source.execution_id}" was rejected: there is nothing to re-run`);
  if (from.status === 'running')
    return refused(`execution "${source.execution_id}" is still running: cancel it or wait for its end`);
  const before = tasksOf(from.plan);
  const after = tasksOf(plan);
  const issues: Issue[] = [];
  for (const id of after.keys())
    if (!before.has(id))
      issues.push({ path: `tasks.${id}`, message: 'is not a task of the source execution' });
  for (const id of before.keys())
    if (!after.has(id))
      issues.push({ path: `tasks.${id}`, message: "is missing: a re-run keeps the source's task ids" });
  const chosen = new Set<string>();
  for (const path of selected) {
    const [phase_id, task_id = ''] = path.split('.', 2);
    if (after.get(task_id)?.phase_id === phase_id) chosen.add(task_id);
    else
      issues.push({
        path: `tasks.${path}`,
        message: 'names no task of the plan (expected "<phase_id>.<task_id>")',
      });
  }
  if (issues.length > 0)
    return {
      ok: false,
      reason: `cannot re-run "${source.execution_id}": ${issues.length} problem(s)`,
      issues,
    };

  const why = new Map<string, string>();
  for (const [id, { phase_id, task }] of after) {
    const old = before.get(id);
    const status = from.tasks[id]?.status;
    if (chosen.has(id)) why.set(id, 'selected');
    else if (status !== 'success') why.set(id, `was ${status ?? 'missing'} in the source`);
    else if (old?.phase_id !== phase_id || !sameJson(old.task, task)) why.set(id, 'its definition changed');
    else if (source.outputSeq[id] === undefined) why.set(id, 'its output is not in the source log');
  }
  const index = buildPlanIndex(plan);
  // Downstream closure: a task that needs a re-run task's success (depends_on, references) runs again.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, entry] of Object.entries(index.tasks)) {
      if (why.has(id)) continue;
      const upstream = entry.needSuccess.find((dep) => why.has(dep));
      if (upstream !== undefined) {
        why.set(id, `depends on ${upstream}, which runs again`);
        grew = true;
      }
    }
  }
  const reused: ReusedTask[] = [];
  const runAgain: { phase_id: string; task_id: string; why: string }[] = [];
  for (const [id, { phase_id }] of after) {
    const reason = why.get(id);
    if (reason !== undefined) runAgain.push({ phase_id, task_id: id, why: reason });
    else reused.push({ phase_id, task_id: id, seq: source.outputSeq[id] as number });
  }
  return { ok: true, reused, runAgain };
}

/** Why `source` cannot be re-run at all, or undefined when it can. */
export function sourceProblem(source: RerunSource): string | undefined {
  const { status, plan } = source.state;
  const id = source.execution_id;
  if (status === 'new' || !plan)
    return `execution "${id}" has no events (never started, or past the events' retention)`;
  if (status === 'rejected') return `execution "${id}" was rejected: there is nothing to re-run`;
  if (status === 'running') return `execution "${id}" is still running: cancel it or wait for its end`;
  return undefined;
}

/** JSON equality, whatever the order of object keys (a corrected plan may list them otherwise). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const keys = Object.keys(a);
  const other = b as Record<string, unknown>;
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && sameJson((a as Record<string, unknown>)[key], other[key]))
  );
}

function tasksOf(plan: Plan): Map<string, { phase_id: string; task: Task }> {
  return new Map(
    plan.phases.flatMap((phase) =>
      phase.tasks.map((task) => [task.task_id, { phase_id: phase.phase_id, task }]),
    ),
  );
}

export function refused(reason: string): Extract<RerunSelection, { ok: false }> {
  return { ok: false, reason, issues: [{ path: 'source_execution_id', message: reason }] };
}
