import { onePhase, Simulation, task } from '@orchestra/testing';
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
  it('schedules the next attempt after the backoff, with its due time', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 2, backoff })]));
    sim.now += 50;
    sim.fail('a');
    expect(sim.lastDecision?.events.map((e) => e.type)).toEqual(['TaskFailed', 'TaskRetryScheduled']);
    expect(sim.eventsOf('TaskRetryScheduled')[0]).toMatchObject({
      task_id: 'a',
      next_attempt_number: 2,
      delay_ms: 100,
      due_at: sim.now + 100,
    });
    expect(sim.state.tasks.a?.status).toBe('retry_wait');
  });

  it('is dispatched again only when the retry timer is due', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1, backoff, input_context: { k: 'v' } })]));
    sim.fail('a');
    const timer = sim.timerOf('retry', 'a');
    expect(timer).toMatchObject({ attempt_number: 2, due_at: sim.now + 100 });

    sim.now += 99;
    const early = sim.input({ kind: 'timer', timer });
    expect(early).toMatchObject({ events: [], ignored: 'retry not due yet' });

    sim.advanceTo(timer.due_at);
    expect(sim.eventsOf('TaskDispatched').at(-1)).toMatchObject({
      attempt_number: 2,
      kind: 'retry',
      plugin: 'worker',
      input_context: { k: 'v' },
      at: timer.due_at,
    });
  });

  it('ignores a retry timer whose retry was already dispatched', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1, backoff })]));
    sim.fail('a');
    const timer = sim.timerOf('retry', 'a');
    sim.advanceTo(timer.due_at);
    expect(sim.input({ kind: 'timer', timer })).toMatchObject({ events: [], ignored: 'retry already done' });
  });

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

  it('succeeds on a retry with the output of that attempt', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1, backoff })]));
    sim.fail('a');
    sim.advanceTo(sim.timerOf('retry', 'a').due_at);
    sim.succeed('a', { n: 2 }, 2);
    expect(sim.state.tasks.a).toMatchObject({
      status: 'success',
      attempt_number: 2,
      output: { n: 2 },
      error: null,
    });
    expect(sim.state.result).toBe('completed');
  });
});

describe('the fallback plugin', () => {
  it('gets exactly one attempt after the retries run out, at once, with attempt_number continuing', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase([task('a', { retries: 1, backoff, fallback_plugin: 'backup', input_context: { k: 1 } })]),
    );
    sim.fail('a', 'first', 1);
    sim.advanceTo(sim.timerOf('retry', 'a').due_at);
    sim.fail('a', 'second', 2);
    expect(sim.lastDecision?.events.map((e) => e.type)).toEqual(['TaskFailed', 'TaskDispatched']);
    expect(sim.dispatchOf('a', 3)).toMatchObject({ plugin: 'backup', input_context: { k: 1 } });
    expect(sim.eventsOf('TaskDispatched').at(-1)?.kind).toBe('fallback');

    sim.fail('a', 'third', 3);
    expect(sim.eventsOf('TaskDispatched')).toHaveLength(3);
    expect(sim.state.tasks.a).toMatchObject({
      status: 'skipped',
      attempt_number: 3,
      error: 'third',
      plugin: 'backup',
    });
  });

  it('follows the first attempt directly when there are no retries', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { fallback_plugin: 'backup' })]));
    sim.fail('a');
    expect(sim.dispatchOf('a', 2).plugin).toBe('backup');
  });

  it('can succeed, and its result names the fallback plugin', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { fallback_plugin: 'backup' })]));
    sim.fail('a');
    sim.succeed('a', 'saved', 2);
    expect(sim.state.tasks.a).toMatchObject({ status: 'success', plugin: 'backup', output: 'saved' });
    expect(sim.state.result).toBe('completed');
  });
});
