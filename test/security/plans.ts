/** Plans of the security tests. */

/** Two phases, a retry, a reference: every service and stream takes part. */
export const leastPrivilegePlan = {
  plan_id: 'least-privilege',
  phases: [
    {
      phase_id: 'gather',
      tasks: [
        {
          task_id: 'echo',
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'echo' },
          input_context: { revenue: 42 },
        },
        {
          task_id: 'flaky',
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'flaky' },
          input_context: { failures: 1 },
          retries: 1,
          backoff: { initial_ms: 50, multiplier: 1, max_ms: 50 },
        },
      ],
    },
    {
      phase_id: 'report',
      depends_on_phases: ['gather'],
      tasks: [
        {
          task_id: 'use',
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'echo' },
          input_context: { revenue: '${gather.echo.output.revenue}' },
        },
      ],
    },
  ],
};

/** One task that runs until it is cancelled. */
export const sleepPlan = {
  plan_id: 'cancel-me',
  phases: [
    {
      phase_id: 'p',
      tasks: [
        {
          task_id: 'long',
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'sleep' },
          input_context: { ms: 60_000 },
        },
      ],
    },
  ],
};
