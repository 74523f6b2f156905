import type { z } from 'zod';
import { formatPath, type Issue } from './errors.js';
import { findCycle, reachable } from './graph.js';
import { LIMITS } from './limits.js';
import { Plan } from './plan.js';
import { forEachString, referencesInString } from './references.js';

export type PlanValidation = { ok: true; plan: Plan } | { ok: false; issues: Issue[] };

/**
 * Validates a plan object: its shape (zod), then what a shape cannot say: unique ids, known
 * dependencies, acyclic graphs, references to tasks certain to finish first, and size bounds.
 */
export function validatePlan(value: unknown): PlanValidation {
  const shape = Plan.safeParse(value);
  if (!shape.success) return { ok: false, issues: zodIssues(shape.error) };
  const issues = semanticIssues(shape.data);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, plan: shape.data };
}

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
    const taskDeps = new Map(phase.tasks.map((task) => [task.task_id, task.depends_on]));
    phase.tasks.forEach((task, t) => {
      let before: Set<string> | undefined;
      const certainlyBefore = (id: string) => {
        before ??= reachable(task.task_id, (tid) => taskDeps.get(tid) ?? []);
        if (before.has(id)) return true;
        const location = taskLocation.get(id);
        return phase.execution_mode === 'sequential' && location !== undefined && location.taskIndex < t;
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

function sizeIssues(plan: Plan): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    phase.tasks.forEach((task, t) => {
      const bytes = Buffer.byteLength(JSON.stringify(task.input_context));
      if (bytes > LIMITS.inputBytes) {
        issues.push({
          path: `phases[${p}].tasks[${t}].input_context`,
          message: `input_context is ${bytes} bytes as JSON; the limit is ${LIMITS.inputBytes}`,
        });
      }
    });
  });
  return issues;
}
