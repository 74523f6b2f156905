import type { PlanInput } from '@orchestra/contracts';

/** Plans of the browser tests, each run by the real services with the built-in plugin. */

const echo = (task_id: string, input_context: Record<string, unknown> = {}) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'echo' },
  input_context,
});

export function slowPlan(plan_id: string, ms: number): PlanInput {
  return {
    plan_id,
    phases: [
      {
        phase_id: 'work',
        tasks: [
          { ...echo('slow'), entry_point: { type: 'function', value: 'sleep' }, input_context: { ms } },
          echo('quick'),
        ],
      },
    ],
  };
}

/** `fails` fails for good under `continue`: it and the task that references it end skipped. */
export const partialPlan: PlanInput = {
  plan_id: 'partial-graph',
  on_partial_failure: 'continue',
  phases: [
    {
      phase_id: 'gather',
      tasks: [
        echo('ok-first', { n: 1 }),
        {
          ...echo('fails'),
          entry_point: { type: 'function', value: 'fail' },
          input_context: { message: 'source unavailable' },
        },
      ],
    },
    {
      phase_id: 'use',
      depends_on_phases: ['gather'],
      execution_mode: 'sequential',
      tasks: [
        echo('uses-failed', { value: '${gather.fails.output}' }),
        echo('ok-last', { n: '${gather.ok-first.output.n}' }),
      ],
    },
  ],
};

/** Fails its first attempt and its retry; the fallback (attempt 3) succeeds. */
export const retryThenFallbackPlan: PlanInput = {
  plan_id: 'retry-then-fallback',
  phases: [
    {
      phase_id: 'recover',
      tasks: [
        {
          ...echo('flaky'),
          entry_point: { type: 'function', value: 'flaky' },
          input_context: { failures: 2 },
          retries: 1,
          backoff: { initial_ms: 300, multiplier: 2, max_ms: 1000 },
          fallback_plugin: 'builtin',
        },
      ],
    },
  ],
};

export const MARKUP = '<img src=x onerror=alert(1)>';

/** Markup in a description, an input and so in the echoed output: it must show as text. */
export const markupPlan: PlanInput = {
  plan_id: 'markup-in-values',
  phases: [
    {
      phase_id: 'echo',
      description: MARKUP,
      tasks: [{ ...echo('xss', { html: MARKUP, script: '<script>alert(2)</script>' }), description: MARKUP }],
    },
  ],
};

export function widePlan(plan_id: string, tasks: number): PlanInput {
  return {
    plan_id,
    phases: [
      {
        phase_id: 'wide',
        tasks: Array.from({ length: tasks }, (_, i) => echo(`t-${String(i).padStart(4, '0')}`, { i })),
      },
    ],
  };
}
