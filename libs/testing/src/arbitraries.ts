import type { PartialFailurePolicy, PlanInput, TaskInput } from '@orchestra/contracts';
import fc from 'fast-check';
import { type PhaseInput, phase, plan, task } from './plans.js';

/**
 * Random valid plans: 1–4 phases whose depends_on_phases point to phases generated earlier (so
 * the graph is acyclic) but listed in any order; 1–5 tasks each, with depends_on that stays
 * acyclic (in a sequential phase only on earlier tasks), 0–2 retries, an optional fallback,
 * short timeouts, and references only to tasks certain to finish first.
 */
const policy = fc.constantFrom<PartialFailurePolicy | undefined>(undefined, 'continue', 'abort');
const picks = (max: number) => fc.array(fc.nat(), { maxLength: max });

/** How a reference reads its target: `missing` names a key no output has, so the task is skipped. */
const referenceForm = fc.oneof(
  { arbitrary: fc.constantFrom('whole', 'embedded', 'path'), weight: 6 },
  { arbitrary: fc.constant('missing'), weight: 1 },
);

const taskShape = fc.record({
  retries: fc.integer({ min: 0, max: 2 }),
  fallback: fc.boolean(),
  timeout_ms: fc.integer({ min: 20, max: 300 }),
  backoff: fc.record({
    initial_ms: fc.integer({ min: 0, max: 100 }),
    multiplier: fc.constantFrom(1, 1.5, 2, 3),
    max_ms: fc.integer({ min: 0, max: 250 }),
  }),
  deps: picks(2),
  refs: fc.array(fc.record({ pick: fc.nat(), form: referenceForm }), { maxLength: 2 }),
});
type TaskShape = typeof taskShape extends fc.Arbitrary<infer T> ? T : never;

const phaseShape = fc.record({
  sequential: fc.boolean(),
  /** In a parallel phase, tasks depend on later-listed tasks instead of earlier ones. */
  reversed: fc.boolean(),
  policy,
  deps: picks(2),
  listKey: fc.nat(),
  tasks: fc.array(taskShape, { minLength: 1, maxLength: 5 }),
});
type PhaseShape = typeof phaseShape extends fc.Arbitrary<infer T> ? T : never;

export const planArbitrary: fc.Arbitrary<PlanInput> = fc
  .record({ policy, phases: fc.array(phaseShape, { minLength: 1, maxLength: 4 }) })
  .map(({ policy: planPolicy, phases }) => buildPlan(phases, planPolicy));

const pickFrom = <T>(items: readonly T[], choices: readonly number[]): T[] =>
  items.length === 0 ? [] : [...new Set(choices.map((n) => items[n % items.length] as T))];

function buildPlan(shapes: PhaseShape[], planPolicy: PartialFailurePolicy | undefined): PlanInput {
  const upstream: Set<string>[] = [];
  const ids = shapes.map((_, p) => `p${p}`);
  const taskIds = shapes.map((shape, p) => shape.tasks.map((_, t) => `t${p}-${t}`));
  const phases = shapes.map((shape, p) => {
    const deps = pickFrom(ids.slice(0, p), shape.deps);
    const above = new Set(deps.flatMap((id) => [id, ...(upstream[ids.indexOf(id)] ?? [])]));
    upstream.push(above);
    const upstreamRefs = [...above].flatMap((id) =>
      (taskIds[ids.indexOf(id)] ?? []).map((t) => `${id}.${t}`),
    );
    const tasks = shape.tasks.map((spec, t) => {
      const mine = taskIds[p] as string[];
      const earlier = shape.sequential || !shape.reversed ? mine.slice(0, t) : mine.slice(t + 1);
      const dependsOn = pickFrom(earlier, spec.deps);
      const certain = [
        ...upstreamRefs,
        ...(shape.sequential ? earlier : dependsOn).map((id) => `p${p}.${id}`),
      ];
      return buildTask(mine[t] as string, spec, dependsOn, certain);
    });
    const extra: Partial<PhaseInput> = { depends_on_phases: deps };
    if (shape.sequential) extra.execution_mode = 'sequential';
    if (shape.policy) extra.on_partial_failure = shape.policy;
    return { key: shape.listKey, phase: phase(ids[p] as string, tasks, extra) };
  });
  const listed = phases.sort((a, b) => a.key - b.key).map((entry) => entry.phase);
  return plan(listed, planPolicy ? { on_partial_failure: planPolicy } : {});
}

function buildTask(id: string, spec: TaskShape, depends_on: string[], certain: string[]): TaskInput {
  const input_context: Record<string, string | number> = { id };
  spec.refs.forEach(({ pick, form }, r) => {
    const target = pickFrom(certain, [pick])[0];
    if (!target) return;
    input_context[`ref${r}`] = {
      whole: `\${${target}.output}`,
      embedded: `value=\${${target}.output.n}!`,
      path: `\${${target}.output.list.1}`,
      missing: `\${${target}.output.nope}`,
    }[form];
  });
  return task(id, {
    retries: spec.retries,
    backoff: spec.backoff,
    timeout_ms: spec.timeout_ms,
    depends_on,
    input_context,
    ...(spec.fallback ? { fallback_plugin: 'backup' } : {}),
  });
}

/** The most attempts a task may get: the first, its retries, and the fallback. */
export function maxAttempts(spec: TaskInput): number {
  return 1 + (spec.retries ?? 0) + (spec.fallback_plugin ? 1 : 0);
}
