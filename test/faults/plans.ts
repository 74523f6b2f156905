import type { FinalTaskStatus, PlanInput } from '@orchestra/contracts';

/**
 * The mixed plans of the fault suite, each with what a run without faults ends with. All use the
 * built-in plugin with generous deadlines, so a kill costs time and attempts, not outcomes.
 */
export interface Expected {
  status: 'completed' | 'partial' | 'failed';
  tasks: Record<string, { status: FinalTaskStatus; output?: unknown }>;
}
export interface FaultPlan {
  plan: PlanInput;
  expected: Expected;
}

const TIMEOUT_MS = 30_000;
const task = (
  task_id: string,
  value: string,
  input_context: Record<string, unknown>,
  extra: object = {},
) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value },
  input_context,
  timeout_ms: TIMEOUT_MS,
  retries: 2,
  backoff: { initial_ms: 50, multiplier: 2, max_ms: 500 },
  ...extra,
});

function fanOut(n: number): FaultPlan {
  const tasks = Array.from({ length: 6 }, (_, i) => task(`w${i}`, 'sleep', { ms: 50 * (i + 1), n, i }));
  return {
    plan: { plan_id: `fan-out-${n}`, phases: [{ phase_id: 'wide', tasks }] },
    expected: {
      status: 'completed',
      tasks: Object.fromEntries(
        tasks.map((t) => [t.task_id, { status: 'success', output: t.input_context }]),
      ),
    },
  };
}

function chain(n: number): FaultPlan {
  return {
    plan: {
      plan_id: `chain-${n}`,
      phases: [
        { phase_id: 'seed', tasks: [task('s', 'echo', { value: n })] },
        {
          phase_id: 'steps',
          depends_on_phases: ['seed'],
          execution_mode: 'sequential',
          tasks: [
            task('a', 'sleep', { ms: 80, v: '${seed.s.output.value}' }),
            task('b', 'echo', { v: '${steps.a.output.v}' }),
            task('c', 'echo', { text: 'n=${steps.b.output.v}' }),
          ],
        },
      ],
    },
    expected: {
      status: 'completed',
      tasks: {
        s: { status: 'success', output: { value: n } },
        a: { status: 'success', output: { ms: 80, v: n } },
        b: { status: 'success', output: { v: n } },
        c: { status: 'success', output: { text: `n=${n}` } },
      },
    },
  };
}

function retryAndFallback(n: number): FaultPlan {
  return {
    plan: {
      plan_id: `recover-${n}`,
      phases: [
        {
          phase_id: 'p',
          tasks: [
            task('flaky', 'flaky', { failures: 2, n }, { retries: 4 }),
            task('fallback', 'flaky', { failures: 1, n }, { retries: 0, fallback_plugin: 'builtin' }),
            task(
              'unserved',
              'echo',
              { n },
              {
                assigned_plugin: 'nobody-serves-this',
                timeout_ms: 2_000,
                retries: 0,
                fallback_plugin: 'builtin',
              },
            ),
          ],
        },
      ],
    },
    expected: {
      status: 'completed',
      tasks: {
        flaky: { status: 'success', output: { failures: 2, n } },
        fallback: { status: 'success', output: { failures: 1, n } },
        unserved: { status: 'success', output: { n } },
      },
    },
  };
}

function continuePastFailure(n: number): FaultPlan {
  return {
    plan: {
      plan_id: `continue-${n}`,
      phases: [
        {
          phase_id: 'a',
          tasks: [task('bad', 'fail', { message: `boom ${n}` }, { retries: 1 }), task('ok', 'echo', { n })],
        },
        {
          phase_id: 'b',
          depends_on_phases: ['a'],
          tasks: [task('needs-bad', 'echo', { x: '${a.bad.output}' }), task('after', 'echo', { n })],
        },
      ],
    },
    expected: {
      status: 'partial',
      tasks: {
        bad: { status: 'skipped' },
        ok: { status: 'success', output: { n } },
        'needs-bad': { status: 'skipped' },
        after: { status: 'success', output: { n } },
      },
    },
  };
}

function abortOnFailure(n: number): FaultPlan {
  return {
    plan: {
      plan_id: `abort-${n}`,
      on_partial_failure: 'abort',
      phases: [
        { phase_id: 'a', tasks: [task('bad', 'fail', { n }, { retries: 0 })] },
        { phase_id: 'b', depends_on_phases: ['a'], tasks: [task('never', 'echo', { n })] },
      ],
    },
    expected: { status: 'failed', tasks: { bad: { status: 'failed' }, never: { status: 'skipped' } } },
  };
}

const TEMPLATES = [fanOut, chain, retryAndFallback, continuePastFailure, abortOnFailure];

/** The n-th plan of the suite: templates in turn, each made unique by n. */
export function faultPlan(n: number): FaultPlan {
  const template = TEMPLATES[n % TEMPLATES.length] as (n: number) => FaultPlan;
  return template(n);
}
