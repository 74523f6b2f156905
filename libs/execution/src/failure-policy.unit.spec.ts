import { toExecutionResults } from './projections.js';
import { onePhase, phase, plan, task } from './testing/plans.js';
import { Simulation } from './testing/simulate.js';

describe('on_partial_failure: continue (the default)', () => {
  it('ends an exhausted task skipped, carrying its last error, and runs the rest', () => {
    const sim = new Simulation();
    sim.execute(
      plan([phase('p1', [task('a'), task('b')]), phase('p2', [task('c')], { depends_on_phases: ['p1'] })]),
    );
    sim.fail('a', 'disk full');
    expect(sim.state.tasks.a).toMatchObject({ status: 'skipped', error: 'disk full' });
    expect(sim.eventsOf('TaskSkipped')[0]?.reason).toBe('gave up after 1 attempt: disk full');
    sim.succeed('b');
    sim.succeed('c');
    expect(sim.eventsOf('PhaseFinished').map((e) => [e.phase_id, e.status])).toEqual([
      ['p1', 'partial'],
      ['p2', 'completed'],
    ]);
    expect(sim.eventsOf('ExecutionFinished')[0]?.status).toBe('partial');
    const results = toExecutionResults(sim.state);
    expect(results.summary).toEqual({ total_tasks: 3, successful: 2, failed: 0, skipped: 1, timeout: 0 });
    expect(results.errors).toEqual([]);
  });
});

describe('on_partial_failure: abort', () => {
  function aborting() {
    const sim = new Simulation();
    sim.execute(
      plan(
        [
          phase('p1', [task('a'), task('b')]),
          phase('p2', [task('c'), task('d')], { execution_mode: 'sequential' }),
          phase('p3', [task('e')], { depends_on_phases: ['p1'] }),
        ],
        { on_partial_failure: 'abort' },
      ),
    );
    sim.succeed('c');
    return sim;
  }

  it('still retries a failed attempt while retries remain', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1 })], { on_partial_failure: 'abort' }));
    sim.fail('a');
    expect(sim.state.tasks.a?.status).toBe('retry_wait');
    expect(sim.state.stopping).toBeNull();
  });

  it('ends an exhausted task failed and the execution failed', () => {
    const sim = aborting();
    sim.fail('a', 'disk full');
    expect(sim.eventsOf('TaskGaveUp')).toEqual([
      expect.objectContaining({
        task_id: 'a',
        status: 'failed',
        reason: 'task "a" gave up after 1 attempt: disk full; on_partial_failure is abort',
      }),
    ]);
    expect(sim.state.tasks.a).toMatchObject({ status: 'failed', error: 'disk full' });
    expect(sim.eventsOf('ExecutionFinished')[0]?.status).toBe('failed');
    expect(toExecutionResults(sim.state).errors).toEqual([sim.eventsOf('TaskGaveUp')[0]?.reason]);
  });

  it('starts no new task, skips running and pending tasks, and ends every open phase', () => {
    const sim = aborting();
    const decision = sim.fail('a');
    expect(decision.events.filter((e) => e.type === 'TaskDispatched' || e.type === 'PhaseStarted')).toEqual(
      [],
    );
    expect(sim.dispatchedTasks()).toEqual(['a', 'b', 'c', 'd']);
    const reason = `execution aborted: ${sim.eventsOf('TaskGaveUp')[0]?.reason}`;
    expect(sim.eventsOf('TaskSkipped').map((e) => [e.task_id, e.reason])).toEqual([
      ['b', reason],
      ['d', reason],
      ['e', reason],
    ]);
    expect(sim.eventsOf('PhaseFinished').map((e) => [e.phase_id, e.status])).toEqual([
      ['p1', 'failed'],
      ['p2', 'partial'],
      ['p3', 'skipped'],
    ]);
    expect(sim.types().at(-1)).toBe('ExecutionFinished');
  });

  it('tells the dispatchers to stop the running tasks', () => {
    const sim = aborting();
    sim.fail('a');
    expect(sim.cancelNotices).toBe(1);
  });

  it('ignores outcomes of tasks that were running when it aborted', () => {
    const sim = aborting();
    sim.fail('a');
    expect(sim.succeed('b').ignored).toBe('execution already ended (failed)');
    expect(sim.state.tasks.b?.status).toBe('skipped');
  });
});

describe('a phase-level on_partial_failure', () => {
  it('continues the phase under a plan that aborts', () => {
    const sim = new Simulation();
    sim.execute(
      plan(
        [phase('p1', [task('a'), task('b')], { on_partial_failure: 'continue' }), phase('p2', [task('c')])],
        {
          on_partial_failure: 'abort',
        },
      ),
    );
    sim.fail('a');
    expect(sim.state.tasks.a?.status).toBe('skipped');
    expect(sim.state.stopping).toBeNull();
    sim.fail('c');
    expect(sim.state.tasks.c?.status).toBe('failed');
    expect(sim.state.result).toBe('failed');
  });

  it('aborts the run from its phase under a plan that continues', () => {
    const sim = new Simulation();
    sim.execute(
      plan([phase('p1', [task('a')]), phase('p2', [task('b'), task('c')], { on_partial_failure: 'abort' })]),
    );
    sim.fail('a');
    expect(sim.state.tasks.a?.status).toBe('skipped');
    sim.fail('b');
    expect(sim.state.tasks).toMatchObject({ b: { status: 'failed' }, c: { status: 'skipped' } });
    expect(sim.state.result).toBe('failed');
  });
});

describe('a failure the plugin marks non-retryable', () => {
  const refused = { message: 'HTTP 401: bad key', code: 'HTTP_401', retryable: false } as const;

  it('skips the remaining retries and goes straight to the fallback plugin, keeping the count', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 2, fallback_plugin: 'backup' })]));
    const decision = sim.fail('a', refused);
    expect(decision.events.map((e) => e.type)).toEqual(['TaskFailed', 'TaskDispatched']);
    expect(decision.events[0]).toMatchObject({
      code: 'HTTP_401',
      retryable: false,
      error: 'HTTP 401: bad key',
    });
    expect(decision.events[1]).toMatchObject({ kind: 'fallback', plugin: 'backup', attempt_number: 2 });
    sim.succeed('a', { ok: 1 });
    expect(toExecutionResults(sim.state).phases[0]?.tasks[0]?.attempts).toEqual([
      expect.objectContaining({
        attempt_number: 1,
        status: 'failed',
        error_code: 'HTTP_401',
        retryable: false,
      }),
      expect.objectContaining({ attempt_number: 2, kind: 'fallback', plugin: 'backup', status: 'success' }),
    ]);
  });

  it('without a fallback, ends the task at once under continue (skipped) and under abort (failed)', () => {
    const continuing = new Simulation();
    continuing.execute(onePhase([task('a', { retries: 3 })]));
    continuing.fail('a', refused);
    expect(continuing.state.tasks.a).toMatchObject({ status: 'skipped', attempt_number: 1 });
    const aborting = new Simulation();
    aborting.execute(onePhase([task('a', { retries: 3 })], { on_partial_failure: 'abort' }));
    aborting.fail('a', refused);
    expect(aborting.eventsOf('TaskGaveUp')).toEqual([expect.objectContaining({ status: 'failed' })]);
  });

  it('only affects its own attempt: a later retryable failure is retried as usual', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1 })]));
    sim.fail('a', { message: 'busy', code: 'HTTP_503' });
    expect(sim.eventsOf('TaskFailed')[0]).toMatchObject({ code: 'HTTP_503' });
    expect(sim.eventsOf('TaskFailed')[0]).not.toHaveProperty('retryable');
    expect(sim.state.tasks.a?.status).toBe('retry_wait');
  });
});

describe('tokens of agent attempts', () => {
  it('are recorded per attempt, summed per task and for the whole execution', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase([task('a', { retries: 1, backoff: { initial_ms: 0, multiplier: 1, max_ms: 0 } }), task('b')]),
    );
    const usage = (input_tokens: number, output_tokens: number) => ({
      model: 'gpt-x',
      input_tokens,
      output_tokens,
    });
    sim.answer(sim.dispatchOf('a'), { kind: 'fail', message: 'not JSON', usage: usage(100, 7) });
    sim.advanceTo(sim.now);
    sim.answer(sim.dispatchOf('a'), {
      kind: 'succeed',
      output: { x: 1 },
      usage: { ...usage(110, 20), finish_reason: 'stop' },
    });
    sim.succeed('b');
    const results = toExecutionResults(sim.state);
    const [a, b] = results.phases[0]?.tasks ?? [];
    expect(a?.attempts.map((attempt) => attempt.usage)).toEqual([
      usage(100, 7),
      { ...usage(110, 20), finish_reason: 'stop' },
    ]);
    expect(a?.usage).toEqual({ input_tokens: 210, output_tokens: 27 });
    expect(b?.usage).toBeUndefined();
    expect(results.summary.usage).toEqual({ input_tokens: 210, output_tokens: 27 });
  });
});
