import type { Issue } from './errors.js';
import { findCycle, reachable } from './graph.js';
import { depthExceeding, isJsonValue } from './json.js';
import { LIMITS } from './limits.js';
import type { PhaseView, PlanView, TaskView } from './plan-view.js';
import { forEachString, referencesInString } from './references.js';

/**
 * What a shape cannot say about a plan: unique ids, known dependencies, acyclic graphs,
 * references to tasks certain to finish first, and size bounds. Every check runs whatever the
 * others found, so one pass lists every problem; a check that cannot judge a part (an id that
 * is not a string, a phase whose tasks form a cycle) leaves that part to the issue already said.
 */
export function planIssues(plan: PlanView): Issue[] {
  const ids = idIssues(plan);
  const phases = phaseGraphIssues(plan, ids.phaseIndex);
  const tasks = taskGraphIssues(plan, ids.taskLocation);
  return [
    ...ids.issues,
    ...phases,
    ...tasks.issues,
    ...referenceIssues(plan, ids.taskLocation, tasks.cyclicPhases),
    ...sizeIssues(plan),
  ];
}

interface TaskLocation {
  phaseIndex: number;
  taskIndex: number;
  phase_id: string | undefined;
}

function idIssues(plan: PlanView) {
  const issues: Issue[] = [];
  const phaseIndex = new Map<string, number>();
  const taskLocation = new Map<string, TaskLocation>();
  let totalTasks = 0;
  plan.phases.forEach((phase, p) => {
    const id = phase.phase_id;
    const seen = id === undefined ? undefined : phaseIndex.get(id);
    if (seen !== undefined) {
      issues.push({
        path: `phases[${p}].phase_id`,
        message: `duplicate phase id "${id}" (first used at phases[${seen}])`,
      });
    } else if (id !== undefined) phaseIndex.set(id, p);
    phase.tasks.forEach((task, t) => {
      totalTasks += 1;
      if (task.task_id === undefined) return;
      const first = taskLocation.get(task.task_id);
      if (first) {
        issues.push({
          path: `phases[${p}].tasks[${t}].task_id`,
          message: `duplicate task id "${task.task_id}" (first used at phases[${first.phaseIndex}].tasks[${first.taskIndex}]); task ids must be unique in the whole plan`,
        });
      } else taskLocation.set(task.task_id, { phaseIndex: p, taskIndex: t, phase_id: phase.phase_id });
    });
  });
  // A phase over the limit on its own is already reported by the shape (`phases[2].tasks`).
  if (totalTasks > LIMITS.tasks && plan.phases.every((phase) => phase.tasks.length <= LIMITS.tasks)) {
    issues.push({
      path: 'phases',
      message: `the plan has ${totalTasks} tasks; the limit is ${LIMITS.tasks}`,
    });
  }
  return { issues, phaseIndex, taskLocation };
}

function phaseGraphIssues(plan: PlanView, phaseIndex: Map<string, number>): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    phase.depends_on_phases.forEach((dep, d) => {
      const path = `phases[${p}].depends_on_phases[${d}]`;
      if (dep === undefined) return;
      if (dep === phase.phase_id) issues.push({ path, message: `phase "${dep}" cannot depend on itself` });
      else if (!phaseIndex.has(dep)) issues.push({ path, message: `unknown phase "${dep}"` });
    });
  });
  const deps = new Map<string, string[]>();
  for (const phase of plan.phases) {
    if (phase.phase_id !== undefined && !deps.has(phase.phase_id)) {
      deps.set(phase.phase_id, otherKnown(phase.depends_on_phases, phase.phase_id));
    }
  }
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

function taskGraphIssues(plan: PlanView, taskLocation: Map<string, TaskLocation>) {
  const issues: Issue[] = [];
  const cyclicPhases = new Set<number>();
  plan.phases.forEach((phase, p) => {
    const order = new Map<string, number>();
    phase.tasks.forEach((task, t) => {
      if (task.task_id !== undefined && !order.has(task.task_id)) order.set(task.task_id, t);
    });
    // The edges a cycle can run along: dependencies that are fine on their own.
    const deps = new Map<string, string[]>();
    phase.tasks.forEach((task, t) => {
      const edges: string[] = [];
      task.depends_on.forEach((dep, d) => {
        const problem = dependencyProblem(phase, task, t, dep, taskLocation.get(dep ?? ''), order);
        if (problem) issues.push({ path: `phases[${p}].tasks[${t}].depends_on[${d}]`, message: problem });
        else if (dep !== undefined) edges.push(dep);
      });
      if (task.task_id !== undefined && !deps.has(task.task_id)) deps.set(task.task_id, edges);
    });
    const cycle = findCycle([...deps.keys()], (id) => deps.get(id) ?? []);
    if (cycle) {
      cyclicPhases.add(p);
      issues.push({
        path: `phases[${p}].tasks[${order.get(cycle[0] as string) ?? 0}].depends_on`,
        message: `tasks depend on each other in a cycle: ${cycle.join(' -> ')}`,
      });
    }
  });
  return { issues, cyclicPhases };
}

function dependencyProblem(
  phase: PhaseView,
  task: TaskView,
  t: number,
  dep: string | undefined,
  location: TaskLocation | undefined,
  order: Map<string, number>,
): string | undefined {
  if (dep === undefined) return undefined;
  if (dep === task.task_id) return `task "${dep}" cannot depend on itself`;
  if (!location) return `unknown task "${dep}"`;
  if (location.phase_id !== phase.phase_id) {
    return `task "${dep}" is in phase "${location.phase_id}"; depends_on names tasks of the same phase (use depends_on_phases for "${location.phase_id}")`;
  }
  if (phase.execution_mode === 'sequential' && (order.get(dep) ?? 0) > t) {
    return `in sequential phase "${phase.phase_id}" task "${task.task_id}" runs before "${dep}", so it cannot depend on it`;
  }
  return undefined;
}

/** The string entries of a dependency list other than `self`: the edges a cycle can run along. */
function otherKnown(list: ReadonlyArray<string | undefined>, self: string): string[] {
  return list.filter((dep): dep is string => dep !== undefined && dep !== self);
}

function referenceIssues(
  plan: PlanView,
  taskLocation: Map<string, TaskLocation>,
  cyclicPhases: ReadonlySet<number>,
): Issue[] {
  const issues: Issue[] = [];
  const phaseDeps = new Map<string, string[]>();
  for (const phase of plan.phases) {
    if (phase.phase_id !== undefined && !phaseDeps.has(phase.phase_id)) {
      phaseDeps.set(phase.phase_id, otherKnown(phase.depends_on_phases, phase.phase_id));
    }
  }
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
      // Not JSON (a cycle of YAML aliases): the shape says so, and there is nothing to walk.
      if (!isJsonValue(task.input_context ?? null, LIMITS.messageDepth)) return;
      /** Undefined: cannot be judged (the phase's tasks form a cycle, already reported). */
      const certainlyBefore = (id: string): boolean | undefined => {
        const location = taskLocation.get(id);
        if (location === undefined) return false;
        if (phase.execution_mode === 'sequential' && location.taskIndex < t) return true;
        if (cyclicPhases.has(p)) return undefined;
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
            if (certainlyBefore(reference.task_id) === false) {
              problem = `names task "${reference.task_id}" of the same ${phase.execution_mode} phase, which is not certain to finish first (add it to depends_on)`;
            }
          } else if (phase.phase_id !== undefined && !upstreamOf(phase.phase_id).has(reference.phase_id)) {
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
function dependencyReach(tasks: readonly TaskView[]): (from: number, to: number) => boolean {
  const index = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (task.task_id !== undefined && !index.has(task.task_id)) index.set(task.task_id, i);
  });
  const edges = tasks.map((task) =>
    task.depends_on.map((dep) => index.get(dep ?? '') ?? -1).filter((i) => i >= 0),
  );
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

function sizeIssues(plan: PlanView): Issue[] {
  const issues: Issue[] = [];
  plan.phases.forEach((phase, p) => {
    phase.tasks.forEach((task, t) => {
      const path = `phases[${p}].tasks[${t}].input_context`;
      // Not JSON (the shape says so), or absent: there is nothing to measure.
      if (task.input_context === undefined || !isJsonValue(task.input_context, LIMITS.messageDepth)) return;
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
