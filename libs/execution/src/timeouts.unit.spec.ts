import { onePhase, Simulation, specFor, T0, task } from '@orchestra/testing';
import { effectsOf } from './effects.js';

const DEADLINE = T0 + 1_000;

/** One task `a` with a 1 s timeout (and `extra`), dispatched at T0. */
function oneTask(extra: Parameters<typeof task>[1] = {}, policy: 'continue' | 'abort' = 'continue') {
  const s = specFor(onePhase([task('a', { timeout_ms: 1_000, ...extra })], { on_partial_failure: policy }));
  return { s, running: [s.started(), s.phaseStarted('p1'), s.dispatched('a')] };
}

describe('a deadline timer', () => {
  it('is set at dispatch time + timeout_ms', () => {
    const { s } = oneTask();
    const decision = s.given().when(s.execute()).then(s.started(), s.phaseStarted('p1'), s.dispatched('a'));
    const effects = effectsOf(decision.state, decision.events);
    expect(effects).toContainEqual({
      kind: 'dispatch',
      command: expect.objectContaining({ task_id: 'a', dispatched_at: T0, deadline_at: DEADLINE }),
    });
    expect(effects).toContainEqual({
      kind: 'timer',
      timer: expect.objectContaining({ kind: 'deadline', task_id: 'a', attempt_number: 1, due_at: DEADLINE }),
    });
  });

  it('is ignored when it fires before the deadline: the attempt keeps running', () => {
    const { s, running } = oneTask();
    const { state } = s
      .given(...running)
      .when(s.timer('deadline', 'a', 1, DEADLINE), { now: DEADLINE - 1 })
      .thenIgnored('deadline not reached yet');
    expect(state.tasks.a?.status).toBe('running');
  });

  it('times the attempt out when now >= deadline', () => {
    const { s, running } = oneTask();
    s.given(...running)
      .when(s.timer('deadline', 'a', 1, DEADLINE), { now: DEADLINE })
      .then(
        s.timedOut('a', { duration_ms: 1_000 }),
        s.skipped('a', 'gave up after 1 attempt: attempt 1 on worker timed out after 1000 ms'),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
  });

  it('is ignored once its attempt has ended (and no running attempt is past its deadline)', () => {
    const s = specFor(onePhase([task('a'), task('b', { timeout_ms: 120_000 })]));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'), s.succeeded('a', 1))
      .when(s.timer('deadline', 'a', 1, T0 + 60_000), { now: T0 + 60_000 })
      .thenIgnored('attempt 1 already ended');
  });

  it('is one timer for the attempts dispatched together with the same deadline, and times out all of them', () => {
    const s = specFor(onePhase([task('a'), task('b'), task('c', { timeout_ms: 120_000 })]));
    const started = s.given().when(s.execute());
    const deadlines = effectsOf(started.decision.state, started.decision.events).flatMap((effect) =>
      effect.kind === 'timer' && effect.timer.kind === 'deadline' ? [effect.timer.task_id] : [],
    );
    expect(deadlines).toEqual(['a', 'c']); // a and b share one

    const { state } = s
      .given(
        s.started(),
        s.phaseStarted('p1'),
        s.dispatched('a'),
        s.dispatched('b'),
        s.dispatched('c'),
        s.succeeded('a', 1),
      )
      .when(s.timer('deadline', 'a', 1, T0 + 60_000), { now: T0 + 60_000 })
      .then(
        s.timedOut('b', { duration_ms: 60_000 }),
        s.skipped('b', 'gave up after 1 attempt: attempt 1 on worker timed out after 60000 ms'),
      );
    expect(state.tasks.c?.status).toBe('running');
  });
});

describe('deadline timers of attempts dispatched by different decisions', () => {
  it('are one timer when their deadlines fall due together (rounded up to a tenth of the timeout, at most 1 s)', () => {
    const sim = new Simulation();
    sim.now = 1_000_100;
    sim.execute(onePhase([task('a'), task('b')], { execution_mode: 'sequential' }));
    const first = sim.timerOf('deadline', 'a');
    expect(first.due_at).toBe(1_061_000); // deadline 1,060,100
    sim.now += 5;
    sim.succeed('a');
    // b's deadline is 1,060,105: the same due time, so the same message id, one stored timer.
    expect(
      sim.timers.filter((timer) => timer.kind === 'deadline' && timer.due_at === 1_061_000),
    ).toHaveLength(2);
    sim.now = 1_061_000;
    const decision = sim.fire(first);
    expect(decision.events[0]).toMatchObject({ type: 'TaskTimedOut', task_id: 'b', duration_ms: 60_000 });
  });
});

describe('a timed-out attempt', () => {
  const deadline = (s: ReturnType<typeof oneTask>['s']) => s.timer('deadline', 'a', 1, DEADLINE);

  it('is retried on the assigned plugin while retries remain, after the backoff', () => {
    const { s, running } = oneTask({ retries: 1, backoff: { initial_ms: 10, multiplier: 2, max_ms: 100 } });
    s.given(...running)
      .when(deadline(s), { now: DEADLINE })
      .then(s.timedOut('a', { duration_ms: 1_000 }), s.retryScheduled('a', { delay_ms: 10 }))
      .when(s.timer('retry', 'a', 2, DEADLINE + 10), { now: DEADLINE + 10 })
      .then(s.dispatched('a', { attempt: 2, kind: 'retry' }));
  });

  it('is retried in the same decision when the backoff is zero', () => {
    const { s, running } = oneTask({ retries: 1, backoff: { initial_ms: 0, multiplier: 1, max_ms: 0 } });
    s.given(...running)
      .when(deadline(s), { now: DEADLINE })
      .then(
        s.timedOut('a', { duration_ms: 1_000 }),
        s.retryScheduled('a', { delay_ms: 0 }),
        s.dispatched('a', { attempt: 2, kind: 'retry' }),
      );
  });

  it('goes to the fallback plugin when no retries remain, with a new deadline', () => {
    const { s, running } = oneTask({ fallback_plugin: 'backup' });
    s.given(...running)
      .when(deadline(s), { now: DEADLINE })
      .then(s.timedOut('a', { duration_ms: 1_000 }), s.dispatched('a', { attempt: 2, kind: 'fallback' }));
  });

  it('ends skipped with the timeout as its error under continue', () => {
    const { s, running } = oneTask();
    const reason = 'gave up after 1 attempt: attempt 1 on worker timed out after 1000 ms';
    const { state } = s
      .given(...running)
      .when(deadline(s), { now: DEADLINE })
      .then(
        s.timedOut('a', { duration_ms: 1_000 }),
        s.skipped('a', reason),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
    expect(state.tasks.a).toMatchObject({
      status: 'skipped',
      error: 'attempt 1 on worker timed out after 1000 ms',
    });
    expect(state.result).toBe('partial');
  });

  it('ends timeout under abort', () => {
    const { s, running } = oneTask({}, 'abort');
    const reason =
      'task "a" gave up after 1 attempt: attempt 1 on worker timed out after 1000 ms; on_partial_failure is abort';
    const { state } = s
      .given(...running)
      .when(deadline(s), { now: DEADLINE })
      .then(
        s.timedOut('a', { duration_ms: 1_000 }),
        s.gaveUp('a', 'timeout', reason),
        s.phaseFinished('p1', 'failed'),
        s.finished('failed'),
      );
    expect(state.tasks.a?.status).toBe('timeout');
    expect(state.result).toBe('failed');
  });
});

describe('a late outcome of a timed-out attempt', () => {
  it('is ignored with a reason while the retry waits, and changes nothing else', () => {
    const { s, running } = oneTask({ retries: 1 });
    s.given(
      ...running,
      s.timedOut('a', { at: DEADLINE }),
      s.retryScheduled('a', { delay_ms: 200, at: DEADLINE }),
    )
      .when(s.success('a', 'too late'), { now: DEADLINE + 1 })
      .thenIgnored('attempt 1 already ended (timed out)', { recorded: true });
  });

  it('is ignored with a reason once the retry runs', () => {
    const { s, running } = oneTask({ retries: 1 });
    s.given(
      ...running,
      s.timedOut('a', { at: DEADLINE }),
      s.retryScheduled('a', { delay_ms: 200, at: DEADLINE }),
      s.dispatched('a', { attempt: 2, kind: 'retry', at: DEADLINE + 200 }),
    )
      .when(s.failure('a', 'late'), { now: DEADLINE + 300 })
      .thenIgnored('attempt 1 is no longer current (attempt 2 is)', { recorded: true });
  });

  it('is ignored after the task was skipped', () => {
    const { s, running } = oneTask();
    s.given(
      ...running,
      s.timedOut('a', { at: DEADLINE }),
      s.skipped('a', 'gave up after 1 attempt: attempt 1 on worker timed out after 1000 ms'),
      s.phaseFinished('p1', 'partial'),
      s.finished('partial'),
    )
      .when(s.success('a', { ok: true }), { now: DEADLINE + 1 })
      .thenIgnored('execution already ended (partial)');
  });
});
