import type { Issue, PlanInput, PlanValidation, TaskInput } from '@orchestra/contracts';

export type PhaseInput = PlanInput['phases'][number];

/** A task on plugin `worker`, entry point `function:run`, unless `extra` says otherwise. */
export function task(task_id: string, extra: Partial<TaskInput> = {}): TaskInput {
  return { task_id, assigned_plugin: 'worker', entry_point: { type: 'function', value: 'run' }, ...extra };
}

export function phase(phase_id: string, tasks: TaskInput[], extra: Partial<PhaseInput> = {}): PhaseInput {
  return { phase_id, tasks, ...extra };
}

export function plan(phases: PhaseInput[], extra: Partial<PlanInput> = {}): PlanInput {
  return { plan_id: 'plan-1', phases, ...extra };
}

/** One phase `p1` holding `tasks`. */
export function onePhase(tasks: TaskInput[], extra: Partial<PhaseInput> = {}): PlanInput {
  return plan([phase('p1', tasks, extra)]);
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
