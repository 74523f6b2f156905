/**
 * The phase and task graph of a plan, as the page draws it: phases and their depends_on_phases,
 * tasks and the edges that order them (depends_on, the previous task of a sequential phase, and
 * references to other tasks' outputs). Built from the PlanIndex that the fold derives once.
 */
import type { Plan } from '@orchestra/contracts';
import type { PlanIndex } from '@orchestra/execution';

export type TaskEdgeKind = 'depends_on' | 'sequence' | 'reference';

export interface TaskEdge {
  from: string;
  to: string;
  kind: TaskEdgeKind;
  /** The two tasks are in different phases (only references cross phases). */
  cross_phase: boolean;
}

export interface GraphPhase {
  phase_id: string;
  execution_mode: 'parallel' | 'sequential';
  task_ids: string[];
}

export interface GraphTask {
  task_id: string;
  phase_id: string;
  assigned_plugin: string;
  fallback_plugin: string | null;
}

export interface PlanGraph {
  phases: GraphPhase[];
  tasks: Map<string, GraphTask>;
  phase_edges: Array<{ from: string; to: string }>;
  task_edges: TaskEdge[];
}

export function planGraph(plan: Plan, index: PlanIndex): PlanGraph {
  const tasks = new Map<string, GraphTask>();
  const task_edges: TaskEdge[] = [];
  const phases: GraphPhase[] = plan.phases.map((phase) => ({
    phase_id: phase.phase_id,
    execution_mode: phase.execution_mode,
    task_ids: phase.tasks.map((task) => task.task_id),
  }));
  for (const phase of plan.phases) {
    phase.tasks.forEach((task, position) => {
      tasks.set(task.task_id, {
        task_id: task.task_id,
        phase_id: phase.phase_id,
        assigned_plugin: task.assigned_plugin,
        fallback_plugin: task.fallback_plugin ?? null,
      });
      const linked = new Set<string>();
      const add = (from: string, kind: TaskEdgeKind) => {
        if (linked.has(from)) return;
        linked.add(from);
        const fromPhase = index.tasks[from]?.phase_id;
        if (fromPhase === undefined) return;
        task_edges.push({ from, to: task.task_id, kind, cross_phase: fromPhase !== phase.phase_id });
      };
      for (const dependency of task.depends_on) add(dependency, 'depends_on');
      for (const needed of index.tasks[task.task_id]?.needSuccess ?? []) add(needed, 'reference');
      const previous = phase.tasks[position - 1];
      if (phase.execution_mode === 'sequential' && previous) add(previous.task_id, 'sequence');
    });
  }
  const phase_edges = plan.phases.flatMap((phase) =>
    phase.depends_on_phases.map((from) => ({ from, to: phase.phase_id })),
  );
  return { phases, tasks, phase_edges, task_edges };
}
