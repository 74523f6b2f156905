import { onePhase, Simulation, specFor, T0, task } from '@orchestra/testing';
import { backoffDelay } from './failure-policy.js';

const backoff = { initial_ms: 100, multiplier: 3, max_ms: 1_000 };

describe('backoff', () => {
  it.each([
    [1, 100],
    [2, 300],
    [3, 900],
    [4, 1_000],
    [10, 1_000],
  ])('waits initial × multiplier^(n-1), capped at max, before retry %i', (retry, delay) => {
    expect(backoffDelay(backoff, retry)).toBe(delay);
  });

  it('is the same for the same inputs (no jitter)', () => {
    expect(backoffDelay({ initial_ms: 7, multiplier: 1.5, max_ms: 100 }, 3)).toBe(16);
    expect(backoffDelay({ initial_ms: 7, multiplier: 1.5, max_ms: 100 }, 3)).toBe(16);
  });
});

describe('a failed attempt with retries left', () => {
  const s = specFor(onePhase([task('a', { retries: 2, backoff, input_context: { k: 'v' } })]));
  const running = [s.started(), s.phaseStarted('p1'), s.dispatched('a')];
  const waiting = [...running, s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 100 })];

  it('schedules the next attempt after the backoff, with its due time', () => {
    const { state } = s
      .given(...running)
      .when(s.failure('a', 'boom'), { now: T0 + 50 })
      .then(s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 100 }));
    expect(state.tasks.a).toMatchObject({ status: 'retry_wait', retry_due_at: T0 + 150 });
  });

  it('is dispatched again only when the retry timer is due, with the same input', () => {
    const timer = s.timer('retry', 'a', 2, T0 + 100);
    s.given(...waiting)
      .when(timer, { now: T0 + 99 })
      .thenIgnored('retry not due yet');
    s.given(...waiting)
      .when(timer, { now: T0 + 100 })
      .then(s.dispatched('a', { attempt: 2, kind: 'retry', input: { k: 'v' } }));
  });

  it('ignores a retry timer whose retry was already dispatched', () => {
    s.given(...waiting, s.dispatched('a', { attempt: 2, kind: 'retry', at: T0 + 100 }))
      .when(s.timer('retry', 'a', 2, T0 + 100), { now: T0 + 100 })
      .thenIgnored('retry already done');
  });

  it('succeeds on a retry with the output of that attempt', () => {
    const { state } = s
      .given(...waiting, s.dispatched('a', { attempt: 2, kind: 'retry', at: T0 + 100 }))
      .when(s.success('a', { n: 2 }, { attempt: 2 }), { now: T0 + 200 })
      .then(
        s.succeeded('a', { n: 2 }, { attempt: 2 }),
        s.phaseFinished('p1', 'completed'),
        s.finished('completed'),
      );
    expect(state.tasks.a).toMatchObject({
      status: 'success',
      attempt_number: 2,
      output: { n: 2 },
      error: null,
    });
    expect(state.result).toBe('completed');
  });
});

describe('a run of retries', () => {
  it('keeps counting attempt_number and delays across retries, then ends skipped with the last error', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 3, backoff })]));
    for (const attempt of [1, 2, 3, 4]) {
      sim.fail('a', `failure ${attempt}`, attempt);
      const timer = sim.timers.find((t) => t.kind === 'retry');
      if (timer) sim.advanceTo(timer.due_at);
    }
    expect(sim.eventsOf('TaskDispatched').map((e) => [e.attempt_number, e.kind])).toEqual([
      [1, 'first'],
      [2, 'retry'],
      [3, 'retry'],
      [4, 'retry'],
    ]);
    expect(sim.eventsOf('TaskRetryScheduled').map((e) => e.delay_ms)).toEqual([100, 300, 900]);
    expect(sim.state.tasks.a).toMatchObject({ status: 'skipped', attempt_number: 4, error: 'failure 4' });
  });
});

describe('the fallback plugin', () => {
  const s = specFor(
    onePhase([task('a', { retries: 1, backoff, fallback_plugin: 'backup', input_context: { k: 1 } })]),
  );
  const retried = [
    s.started(),
    s.phaseStarted('p1'),
    s.dispatched('a'),
    s.failed('a', 'first'),
    s.retryScheduled('a', { delay_ms: 100 }),
    s.dispatched('a', { attempt: 2, kind: 'retry', at: T0 + 100 }),
  ];

  it('gets exactly one attempt after the retries run out, at once, with attempt_number continuing', () => {
    s.given(...retried)
      .when(s.failure('a', 'second', { attempt: 2 }), { now: T0 + 200 })
      .then(s.failed('a', 'second', { attempt: 2 }), s.dispatched('a', { attempt: 3, kind: 'fallback' }));
  });

  it('ends the task when it fails too, with its error and plugin: nothing is dispatched after it', () => {
    const { state } = s
      .given(
        ...retried,
        s.failed('a', 'second', { attempt: 2 }),
        s.dispatched('a', { attempt: 3, kind: 'fallback', at: T0 + 200 }),
      )
      .when(s.failure('a', 'third', { attempt: 3, plugin: 'backup' }), { now: T0 + 300 })
      .then(
        s.failed('a', 'third', { attempt: 3, plugin: 'backup' }),
        s.skipped('a', 'gave up after 3 attempts: third'),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
    expect(state.tasks.a).toMatchObject({
      status: 'skipped',
      attempt_number: 3,
      error: 'third',
      plugin: 'backup',
    });
  });

  const direct = specFor(onePhase([task('a', { fallback_plugin: 'backup' })]));
  const failedOnce = [
    direct.started(),
    direct.phaseStarted('p1'),
    direct.dispatched('a'),
    direct.failed('a', 'boom'),
    direct.dispatched('a', { attempt: 2, kind: 'fallback' }),
  ];

  it('follows the first attempt directly when there are no retries', () => {
    direct
      .given(...failedOnce.slice(0, 3))
      .when(direct.failure('a', 'boom'))
      .then(direct.failed('a', 'boom'), direct.dispatched('a', { attempt: 2, kind: 'fallback' }));
  });

  it('can succeed, and its result names the fallback plugin', () => {
    const { state } = direct
      .given(...failedOnce)
      .when(direct.success('a', 'saved', { attempt: 2, plugin: 'backup' }))
      .then(
        direct.succeeded('a', 'saved', { attempt: 2, plugin: 'backup' }),
        direct.phaseFinished('p1', 'completed'),
        direct.finished('completed'),
      );
    expect(state.tasks.a).toMatchObject({ status: 'success', plugin: 'backup', output: 'saved' });
    expect(state.result).toBe('completed');
  });
});
