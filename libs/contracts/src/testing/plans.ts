import type { Issue } from '../errors.js';
import type { PlanInput, TaskInput } from '../plan.js';
import type { PlanValidation } from '../validate.js';

export type PhaseInput = PlanInput['phases'][number];

/** A task on the built-in plugin, entry point `function:echo`, unless `extra` says otherwise. */
export function task(task_id: string, extra: Partial<TaskInput> = {}): TaskInput {
  return { task_id, assigned_plugin: 'builtin', entry_point: { type: 'function', value: 'echo' }, ...extra };
}

export function phase(phase_id: string, tasks: TaskInput[], extra: Partial<PhaseInput> = {}): PhaseInput {
  return { phase_id, tasks, ...extra };
}

export function plan(phases: PhaseInput[], extra: Partial<PlanInput> = {}): PlanInput {
  return { plan_id: 'plan-1', phases, ...extra };
}

/** The issues of a validation that must have failed (fails the test with the plan if it passed). */
export function issuesOf(result: PlanValidation): Issue[] {
  if (result.ok)
    throw new Error(`expected the plan to be rejected, but it is valid: ${JSON.stringify(result.plan)}`);
  return result.issues;
}

/** The single issue of a failed validation. */
export function onlyIssue(result: PlanValidation): Issue {
  const issues = issuesOf(result);
  if (issues.length !== 1)
    throw new Error(`expected exactly one issue, got ${JSON.stringify(issues, null, 2)}`);
  return issues[0] as Issue;
}
