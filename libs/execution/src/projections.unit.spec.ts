// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose
import { ExecutionContext, ExecutionResults } from '@orchestra/contracts';
import { phase, plan, Simulation, task } from '@orchestra/testing';
import { toExecutionContext, toExecutionResults } from './projections.js';
import { initialState } from './state.js';

const keys = (value: object | undefined) => Object.keys(value ?? {}).sort();

/** p1: a, b (retries 1); p2: c after p1. */
function twoPhases() {
  const sim = new Simulation();
  sim.execute(
    plan([
      phase('p1', [
        task('a'),
        task('b', { retries: 1, backoff: { initial_ms: 10, multiplier: 1, max_ms: 10 } }),
      ]),
      phase('p2', [task('c', { input_context: { v: '${p1.a.output}' } })], { depends_on_phases: ['p1'] }),
    ]),
  );
  return sim;
}

describe('toExecutionResults', () => {
  it("has exactly the seed's fields, plus execution_id, timestamps, summary.timeout and errors", () => {
    const sim = twoPhases();
    const results = toExecutionResults(sim.state);
    expect(keys(results)).toEqual(
      [
        'plan_id',
        'status',
        'duration_ms',
        'phases',
        'summary',
        'execution_id',
        'started_at',
        'finished_at',
        'errors',
      ].sort(),
    );
    expect(keys(results.phases[0])).toEqual(['phase_id', 'status', 'tasks'].sort());
    expect(keys(results.phases[0]?.tasks[0])).toEqual(
      [
        'task_id',
        'status',
        'plugin_used',
        'attempt_number',
        'duration_ms',
        'output',
        'error',
        // beside the seed's fields: every attempt
        'attempts',
      ].sort(),
    );
    expect(keys(results.summary)).toEqual(
      ['total_tasks', 'successful', 'failed', 'skipped', 'timeout'].sort(),
    );
    expect(ExecutionResults.parse(results)).toEqual(results);
  });

  it('shows a running execution with pending and running phases and tasks', () => {
    const sim = twoPhases();
    const dispatched_at = new Date(sim.now).toISOString();
    sim.fail('b', 'flaky');
    expect(toExecutionResults(sim.state)).toEqual({
      execution_id: 'exec-1',
      plan_id: 'plan-1',
      status: 'running',
      duration_ms: null,
      started_at: new Date(sim.now).toISOString(),
      finished_at: null,
      phases: [
        {
          phase_id: 'p1',
          status: 'running',
          tasks: [
            {
              task_id: 'a',
              status: 'running',
              plugin_used: 'worker',
              attempt_number: 1,
              duration_ms: null,
              output: null,
              error: null,
              attempts: [
                {
                  attempt_number: 1,
                  kind: 'first',
                  plugin: 'worker',
                  status: 'running',
                  dispatched_at,
                  duration_ms: null,
                },
              ],
            },
            {
              task_id: 'b',
              status: 'running',
              plugin_used: 'worker',
              attempt_number: 1,
              duration_ms: 5,
              output: null,
              error: 'flaky',
              attempts: [
                {
                  attempt_number: 1,
                  kind: 'first',
                  plugin: 'worker',
                  status: 'failed',
                  dispatched_at,
                  duration_ms: 5,
                },
              ],
            },
          ],
        },
        {
          phase_id: 'p2',
          status: 'pending',
          tasks: [
            {
              task_id: 'c',
              status: 'pending',
              plugin_used: null,
              attempt_number: 0,
              duration_ms: null,
              output: null,
              error: null,
              attempts: [],
            },
          ],
        },
      ],
      summary: { total_tasks: 3, successful: 0, failed: 0, skipped: 0, timeout: 0 },
      errors: [],
    });
  });

  it('shows a finished execution with its duration, outputs, errors and summary', () => {
    const sim = twoPhases();
    const started = sim.now;
    sim.succeed('a', { x: 1 });
    sim.fail('b', 'once');
    sim.advanceTo(sim.timerOf('retry', 'b').due_at);
    const retried_at = new Date(sim.now).toISOString();
    sim.fail('b', 'twice', 2);
    sim.now += 1_000;
    sim.succeed('c', 'done');
    const results = toExecutionResults(sim.state);
    expect(results).toMatchObject({
      status: 'partial',
      duration_ms: sim.now - started,
      started_at: new Date(started).toISOString(),
      finished_at: new Date(sim.now).toISOString(),
      summary: { total_tasks: 3, successful: 2, failed: 0, skipped: 1, timeout: 0 },
    });
    expect(results.phases.map((p) => p.status)).toEqual(['partial', 'completed']);
    expect(results.phases[0]?.tasks[1]).toEqual({
      task_id: 'b',
      status: 'skipped',
      plugin_used: 'worker',
      attempt_number: 2,
      duration_ms: 5,
      output: null,
      error: 'twice',
      attempts: [
        {
          attempt_number: 1,
          kind: 'first',
          plugin: 'worker',
          status: 'failed',
          dispatched_at: new Date(started).toISOString(),
          duration_ms: 5,
        },
        {
          attempt_number: 2,
          kind: 'retry',
          plugin: 'worker',
          status: 'failed',
          dispatched_at: retried_at,
          duration_ms: 5,
        },
      ],
    });
    expect(results.phases[1]?.tasks[0]).toMatchObject({ status: 'success', output: 'done', error: null });
  });

  it('counts a task that gave up on a timeout under summary.timeout', () => {
    const sim = new Simulation();
    sim.execute(
      plan([phase('p1', [task('a', { timeout_ms: 100 }), task('b')])], { on_partial_failure: 'abort' }),
    );
    sim.advanceTo(sim.now + 100);
    expect(toExecutionResults(sim.state).summary).toEqual({
      total_tasks: 2,
      successful: 0,
      failed: 0,
      skipped: 1,
      timeout: 1,
    });
  });

  it('shows an execution not started yet as pending', () => {
    expect(toExecutionResults(initialState(), 'exec-9')).toMatchObject({
      execution_id: 'exec-9',
      plan_id: null,
      status: 'pending',
      phases: [],
      summary: { total_tasks: 0 },
    });
  });
});

describe('toExecutionContext', () => {
  it("has the seed's step-1 fields, plus execution_id and running_phases", () => {
    const context = toExecutionContext(twoPhases().state);
    expect(keys(context)).toEqual(
      [
        'plan_id',
        'start_time',
        'state',
        'current_phase',
        'completed_phases',
        'task_outputs',
        'errors',
        'execution_id',
        'running_phases',
        'outputs_by_task',
      ].sort(),
    );
    expect(ExecutionContext.parse(context)).toEqual(context);
  });

  it('tracks the current phase, completed phases, task outputs and errors as the run goes', () => {
    const sim = twoPhases();
    const start_time = new Date(sim.now).toISOString();
    sim.succeed('a', { x: 1 });
    sim.fail('b', 'once');
    expect(toExecutionContext(sim.state)).toEqual({
      execution_id: 'exec-1',
      plan_id: 'plan-1',
      start_time,
      state: 'running',
      current_phase: 'p1',
      running_phases: ['p1'],
      completed_phases: [],
      task_outputs: { a: { x: 1 } },
      outputs_by_task: { a: { x: 1 } },
      errors: [{ phase_id: 'p1', task_id: 'b', attempt_number: 1, error: 'once' }],
    });
    sim.advanceTo(sim.timerOf('retry', 'b').due_at);
    sim.succeed('b', null, 2);
    expect(toExecutionContext(sim.state)).toMatchObject({
      current_phase: 'p2',
      completed_phases: ['p1'],
      task_outputs: { a: { x: 1 }, b: null },
    });
    sim.succeed('c');
    expect(toExecutionContext(sim.state)).toMatchObject({
      state: 'completed',
      current_phase: null,
      completed_phases: ['p1', 'p2'],
    });
  });

  it("keys task_outputs by each task's output_key, as the seed's execution context does", () => {
    const sim = new Simulation();
    sim.execute(plan([phase('p1', [task('a', { output_key: 'financials' }), task('b')])]));
    sim.succeed('a', { revenue: 1 });
    sim.succeed('b', 'plain');
    const context = toExecutionContext(sim.state);
    expect(context.task_outputs).toEqual({ financials: { revenue: 1 }, b: 'plain' });
    expect(context.outputs_by_task).toEqual({ a: { revenue: 1 }, b: 'plain' });
  });

  it('lists the issues of a rejected plan as errors', () => {
    const sim = new Simulation();
    sim.execute(plan([phase('p1', [task('a', { retries: 99 })])]));
    const context = toExecutionContext(sim.state);
    expect(context.state).toBe('rejected');
    expect(context.errors).toEqual([
      {
        phase_id: null,
        task_id: null,
        attempt_number: null,
        error: expect.stringMatching(/^phases\[0\]\.tasks\[0\]\.retries: /),
      },
    ]);
  });
});
