import type { z } from 'zod';
import { formatPath, type Issue, ValidationError } from './errors.js';
import { findCycle, reachable } from './graph.js';
import { depthExceeding } from './json.js';
import { LIMITS } from './limits.js';
import { Plan, type Task } from './plan.js';
import { forEachString, referencesInString } from './references.js';

export type PlanValidation = { ok: true; plan: Plan } | { ok: false; issues: Issue[] };

/**
 * Validates a plan object: its shape (zod), then what a shape cannot say: unique ids, known
 * dependencies, acyclic graphs, references to tasks certain to finish first, and size bounds.
 */
export function validatePlan(value: unknown): PlanValidation {
  const shape = Plan.safeParse(value, { error: missingField });
  if (!shape.success) return { ok: false, issues: zodIssues(shape.error) };
  const issues = semanticIssues(shape.data);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, plan: shape.data };
}

/** zod says "expected string, received undefined" for an absent field; say what it means. */
const missingField: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined
    ? `missing required field (expected ${issue.expected})`
    : undefined;

export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

interface TaskLocation {
  phaseIndex: number;
  taskIndex: number;
  phase_id: string;
}

function semanticIssues(plan: Plan): Issue[] {
  const issues: Issue[] = [];
  const phaseIndex = new Map<string, number>();
  const taskLocation = new Map<string, TaskLocation>();
  let totalTasks = 0;

  plan.phases.forEach((phase, p) => {
    const seen = phaseIndex.get(phase.phase_id);
    if (seen !== undefined) {
      issues.push({
        path: `phases[${p}].phase_id`,
        message: `duplicate phase id "${phase.phase_id}" (first used at phases[${seen}])`,
      });
    } else phaseIndex.set(phase.phase_id, p);
    phase.tasks.forEach((task, t) => {
      totalTasks += 1;
      const first = taskLocation.get(task.task_id);
      if (first) {
        issues.push({
          path: `phases[${p}].tasks[${t}].task_id`,
          message: `duplicate task id "${task.task_id}" (first used at phases[${first.phaseIndex}].tasks[${first.taskIndex}]); task ids must be unique in the whole plan`,
        });
      } else taskLocation.set(task.task_id, { phaseIndex: p, taskIndex: t, phase_id: phase.phase_id });
    });
  });
  if (totalTasks > LIMITS.tasks) {
    issues.push({
      path: 'phases',
      message: `the plan has ${totalTasks} tasks; the limit is ${LIMITS.tasks}`,
    });
  }
  if (issues.length > 0) return issues;

  issues.push(...phaseGraphIssues(plan, phaseIndex));
  issues.push(...taskGraphIssues(plan, taskLocation));
  if (issues.length > 0) return issues;

  issues.push(...referenceIssues(plan, taskLocation));
  issues.push(...sizeIssues(plan));
  return issues;
}

function phaseGraphIssues(plan: Plan, phaseIndex: Map<string, number>): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    phase.depends_on_phases.forEach((dep, d) => {
      const path = `phases[${p}].depends_on_phases[${d}]`;
      if (dep === phase.phase_id) issues.push({ path, message: `phase "${dep}" cannot depend on itself` });
      else if (!phaseIndex.has(dep)) issues.push({ path, message: `unknown phase "${dep}"` });
    });
  });
  if (issues.length > 0) return issues;
  const deps = new Map(plan.phases.map((phase) => [phase.phase_id, phase.depends_on_phases]));
  const cycle = findCycle([...deps.keys()], (id) => deps.get(id) ?? []);
  if (cycle) {
    const first = phaseIndex.get(cycle[0] as string) ?? 0;
    issues.push({
      path: `phases[${first}].depends_on_phases`,
      message: `phases depend on each other in a cycle: ${cycle.join(' -> ')}`,
    });
  }
  return issues;
}

function taskGraphIssues(plan: Plan, taskLocation: Map<string, TaskLocation>): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    const order = new Map(phase.tasks.map((task, t) => [task.task_id, t]));
    phase.tasks.forEach((task, t) => {
      task.depends_on.forEach((dep, d) => {
        const path = `phases[${p}].tasks[${t}].depends_on[${d}]`;
        const location = taskLocation.get(dep);
        if (dep === task.task_id) issues.push({ path, message: `task "${dep}" cannot depend on itself` });
        else if (!location) issues.push({ path, message: `unknown task "${dep}"` });
        else if (location.phase_id !== phase.phase_id) {
          issues.push({
            path,
            message: `task "${dep}" is in phase "${location.phase_id}"; depends_on names tasks of the same phase (use depends_on_phases for "${location.phase_id}")`,
          });
        } else if (phase.execution_mode === 'sequential' && (order.get(dep) ?? 0) > t) {
          issues.push({
            path,
            message: `in sequential phase "${phase.phase_id}" task "${task.task_id}" runs before "${dep}", so it cannot depend on it`,
          });
        }
      });
    });
    if (issues.length > 0) return;
    const deps = new Map(phase.tasks.map((task) => [task.task_id, task.depends_on]));
    const cycle = findCycle([...deps.keys()], (id) => deps.get(id) ?? []);
    if (cycle) {
      const t = order.get(cycle[0] as string) ?? 0;
      issues.push({
        path: `phases[${p}].tasks[${t}].depends_on`,
        message: `tasks depend on each other in a cycle: ${cycle.join(' -> ')}`,
      });
    }
  });
  return issues;
}

function referenceIssues(plan: Plan, taskLocation: Map<string, TaskLocation>): Issue[] {
  const issues: Issue[] = [];
  const phaseDeps = new Map(plan.phases.map((phase) => [phase.phase_id, phase.depends_on_phases]));
  const upstream = new Map<string, Set<string>>();
  const upstreamOf = (phase_id: string) => {
    let set = upstream.get(phase_id);
    if (!set) {
      set = reachable(phase_id, (id) => phaseDeps.get(id) ?? []);
      upstream.set(phase_id, set);
    }
    return set;
  };

  plan.phases.forEach((phase, p) => {
    let dependsOn: ((from: number, to: number) => boolean) | undefined;
    phase.tasks.forEach((task, t) => {
      const certainlyBefore = (id: string) => {
        const location = taskLocation.get(id);
        if (location === undefined) return false;
        if (phase.execution_mode === 'sequential' && location.taskIndex < t) return true;
        dependsOn ??= dependencyReach(phase.tasks);
        return dependsOn(t, location.taskIndex);
      };
      forEachString(task.input_context, `phases[${p}].tasks[${t}].input_context`, (text, path) => {
        for (const parsed of referencesInString(text)) {
          if (!parsed.ok) {
            issues.push({ path, message: parsed.message });
            continue;
          }
          const { reference } = parsed;
          const location = taskLocation.get(reference.task_id);
          let problem: string | undefined;
          if (!phaseDeps.has(reference.phase_id)) problem = `names unknown phase "${reference.phase_id}"`;
          else if (!location) problem = `names unknown task "${reference.task_id}"`;
          else if (location.phase_id !== reference.phase_id) {
            problem = `names task "${reference.task_id}" in phase "${reference.phase_id}", but that task is in phase "${location.phase_id}"`;
          } else if (reference.task_id === task.task_id) problem = 'names the task itself';
          else if (reference.phase_id === phase.phase_id) {
            if (!certainlyBefore(reference.task_id)) {
              problem = `names task "${reference.task_id}" of the same ${phase.execution_mode} phase, which is not certain to finish first (add it to depends_on)`;
            }
          } else if (!upstreamOf(phase.phase_id).has(reference.phase_id)) {
            problem = `names phase "${reference.phase_id}", which is not upstream of phase "${phase.phase_id}" (add it to depends_on_phases)`;
          }
          if (problem) issues.push({ path, message: `reference ${reference.raw} ${problem}` });
        }
      });
    });
  });
  return issues;
}

/**
 * Answers "does task `from` depend on task `to`, directly or transitively?" for the tasks of one
 * (acyclic) phase, by index. A depth-first walk that stops at `to` and skips every task ranked
 * at or below `to` in a topological order, since none of those can lead to it. Sets of all
 * ancestors per task would make a long depends_on chain quadratic in time and memory.
 */
function dependencyReach(tasks: readonly Task[]): (from: number, to: number) => boolean {
  const index = new Map(tasks.map((task, i) => [task.task_id, i]));
  const edges = tasks.map((task) => task.depends_on.map((dep) => index.get(dep) ?? -1).filter((i) => i >= 0));
  const rank = topologicalRank(edges);
  const seen = new Int32Array(tasks.length);
  /** For each target already asked about, the tasks known to depend on it. */
  const known = new Map<number, Set<number>>();
  let stamp = 0;
  return (from, to) => {
    const floor = rank[to] as number;
    if ((rank[from] as number) <= floor) return false;
    const reaching = known.get(to) ?? new Set<number>();
    known.set(to, reaching);
    stamp += 1;
    const pending = [from];
    while (pending.length > 0) {
      for (const next of edges[pending.pop() as number] ?? []) {
        if (next === to || reaching.has(next)) {
          reaching.add(from);
          return true;
        }
        if (seen[next] === stamp || (rank[next] as number) <= floor) continue;
        seen[next] = stamp;
        pending.push(next);
      }
    }
    return false;
  };
}

/** Kahn's algorithm: rank[i] > rank[d] for every dependency d of i. Assumes no cycle. */
function topologicalRank(edges: readonly number[][]): Int32Array {
  const rank = new Int32Array(edges.length);
  const waiting = edges.map((deps) => deps.length);
  const dependents: number[][] = edges.map(() => []);
  edges.forEach((deps, i) => {
    for (const dep of deps) dependents[dep]?.push(i);
  });
  const ready = waiting.flatMap((count, i) => (count === 0 ? [i] : []));
  let next = 0;
  while (ready.length > 0) {
    const node = ready.pop() as number;
    rank[node] = next++;
    for (const dependent of dependents[node] ?? []) {
      waiting[dependent] = (waiting[dependent] as number) - 1;
      if (waiting[dependent] === 0) ready.push(dependent);
    }
  }
  return rank;
}

function sizeIssues(plan: Plan): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    phase.tasks.forEach((task, t) => {
      const path = `phases[${p}].tasks[${t}].input_context`;
      // A plan from the bus was never through parseDocumentText's depth bound.
      const deep = depthExceeding(task.input_context, LIMITS.jsonDepth, path);
      if (deep) {
        issues.push({
          path,
          message: `input_context nests deeper than ${LIMITS.jsonDepth} levels (at ${deep})`,
        });
        return;
      }
      const bytes = Buffer.byteLength(JSON.stringify(task.input_context));
      if (bytes > LIMITS.inputBytes) {
        issues.push({
          path,
          message: `input_context is ${bytes} bytes as JSON; the limit is ${LIMITS.inputBytes}`,
        });
      }
    });
  });
  return issues;
}

/** Parses a boundary value with a zod schema, or throws a ValidationError naming every field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid ${what}`, zodIssues(parsed.error));
  return parsed.data;
}
