import { forEachString, type Plan, referencesInString } from '@orchestra/contracts';
import type { PlanIndex, TaskIndexEntry } from './state.js';

/**
 * What the decider needs to know about a plan, computed once: phase order and dependencies,
 * and for each task what it waits for and what must have succeeded. A validated plan is assumed
 * (the decider validates before ExecutionStarted), so unknown names cannot occur here.
 */
export function buildPlanIndex(plan: Plan): PlanIndex {
  const phaseDeps: Record<string, readonly string[]> = {};
  const phaseTasks: Record<string, readonly string[]> = {};
  const tasks: Record<string, TaskIndexEntry> = {};
  for (const phase of plan.phases) {
    phaseDeps[phase.phase_id] = phase.depends_on_phases;
    phaseTasks[phase.phase_id] = phase.tasks.map((task) => task.task_id);
    const policy = phase.on_partial_failure ?? plan.on_partial_failure;
    phase.tasks.forEach((task, position) => {
      const referenced = new Set<string>();
      const samePhaseReferenced = new Set<string>();
      forEachString(task.input_context, '', (text) => {
        for (const parsed of referencesInString(text)) {
          if (!parsed.ok) continue;
          referenced.add(parsed.reference.task_id);
          if (parsed.reference.phase_id === phase.phase_id) samePhaseReferenced.add(parsed.reference.task_id);
        }
      });
      const waitFor = new Set([...task.depends_on, ...samePhaseReferenced]);
      const previous = phase.tasks[position - 1];
      if (phase.execution_mode === 'sequential' && previous) waitFor.add(previous.task_id);
      tasks[task.task_id] = {
        task,
        phase_id: phase.phase_id,
        position,
        policy,
        waitFor: [...waitFor],
        needSuccess: [...new Set([...task.depends_on, ...referenced])],
        hasReferences: referenced.size > 0,
      };
    });
  }
  return { phaseOrder: plan.phases.map((phase) => phase.phase_id), phaseDeps, phaseTasks, tasks };
}
