import { onePhase, Simulation, task } from '@orchestra/testing';
import type { ExecutionState } from './state.js';

/** The state without the counters an ignored input may move. */
const core = ({ version: _v, ignored: _i, ...rest }: ExecutionState) => rest;

function dispatched(extra: Parameters<typeof task>[1] = {}) {
  const sim = new Simulation();
  sim.execute(onePhase([task('a', { timeout_ms: 1_000, ...extra })]));
  return sim;
}

describe('a deadline timer', () => {
  it('is set at dispatch time + timeout_ms', () => {
    const sim = dispatched();
    expect(sim.dispatchOf('a')).toMatchObject({ dispatched_at: sim.now, deadline_at: sim.now + 1_000 });
    expect(sim.timerOf('deadline', 'a')).toMatchObject({ attempt_number: 1, due_at: sim.now + 1_000 });
  });

  it('is ignored when it fires before the deadline', () => {
    const sim = dispatched();
    const timer = sim.timerOf('deadline', 'a');
    sim.now = timer.due_at - 1;
    const before = sim.state;
    expect(sim.input({ kind: 'timer', timer })).toMatchObject({
      events: [],
      ignored: 'deadline not reached yet',
    });
    expect(sim.state).toEqual(before);
    expect(sim.state.tasks.a?.status).toBe('running');
  });

  it('times the attempt out when now >= deadline', () => {
    const sim = dispatched();
    const deadline = sim.timerOf('deadline', 'a').due_at;
    sim.advanceTo(deadline);
    expect(sim.eventsOf('TaskTimedOut')).toEqual([
      expect.objectContaining({
        task_id: 'a',
        attempt_number: 1,
        plugin_used: 'worker',
        duration_ms: 1_000,
        at: deadline,
      }),
    ]);
  });

  it('is ignored once its attempt has ended (and no running attempt is past its deadline)', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b', { timeout_ms: 120_000 })]));
    const timer = sim.timerOf('deadline', 'a');
    sim.succeed('a');
    sim.now = timer.due_at;
    expect(sim.input({ kind: 'timer', timer })).toMatchObject({
      events: [],
      ignored: 'attempt 1 already ended',
    });
  });

  it('is one timer for the attempts dispatched together with the same deadline, and times out all of them', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b'), task('c', { timeout_ms: 120_000 })]));
    const deadlines = sim.timers.filter((timer) => timer.kind === 'deadline');
    expect(deadlines.map((timer) => timer.task_id)).toEqual(['a', 'c']); // a and b share one
    const shared = sim.timerOf('deadline', 'a');
    sim.succeed('a');
    sim.now = shared.due_at;
    const decision = sim.input({ kind: 'timer', timer: shared });
    expect(decision.events.filter((event) => event.type === 'TaskTimedOut')).toEqual([
      expect.objectContaining({ task_id: 'b', attempt_number: 1, duration_ms: 60_000 }),
    ]);
    expect(sim.state.tasks.c?.status).toBe('running');
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
  it('is retried while retries remain', () => {
    const sim = dispatched({ retries: 1, backoff: { initial_ms: 10, multiplier: 2, max_ms: 100 } });
    sim.advanceTo(sim.timerOf('deadline', 'a').due_at);
    expect(sim.lastDecision?.events.map((e) => e.type)).toEqual(['TaskTimedOut', 'TaskRetryScheduled']);
    sim.advanceTo(sim.timerOf('retry', 'a').due_at);
    expect(sim.dispatchOf('a', 2).plugin).toBe('worker');
  });

  it('goes to the fallback plugin when no retries remain', () => {
    const sim = dispatched({ fallback_plugin: 'backup' });
    sim.advanceTo(sim.timerOf('deadline', 'a').due_at);
    expect(sim.dispatchOf('a', 2)).toMatchObject({ plugin: 'backup', deadline_at: sim.now + 1_000 });
  });

  it('ends skipped with the timeout as its error under continue', () => {
    const sim = dispatched();
    sim.advanceTo(sim.timerOf('deadline', 'a').due_at);
    expect(sim.state.tasks.a).toMatchObject({
      status: 'skipped',
      error: 'attempt 1 on worker timed out after 1000 ms',
    });
    expect(sim.state.result).toBe('partial');
  });

  it('ends timeout under abort', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { timeout_ms: 1_000 })], { on_partial_failure: 'abort' }));
    sim.advanceTo(sim.timerOf('deadline', 'a').due_at);
    expect(sim.eventsOf('TaskGaveUp')[0]).toMatchObject({ task_id: 'a', status: 'timeout' });
    expect(sim.state.tasks.a?.status).toBe('timeout');
    expect(sim.state.result).toBe('failed');
  });
});

describe('a late outcome of a timed-out attempt', () => {
  it('is ignored with a reason while the retry waits, and changes nothing else', () => {
    const sim = dispatched({ retries: 1 });
    const first = sim.dispatchOf('a');
    sim.advanceTo(first.deadline_at);
    const before = sim.state;
    const decision = sim.succeed('a', 'too late', 1);
    expect(decision.ignored).toBe('attempt 1 already ended (timed out)');
    expect(decision.events).toEqual([
      expect.objectContaining({
        type: 'OutcomeIgnored',
        task_id: 'a',
        attempt_number: 1,
        reason: decision.ignored,
      }),
    ]);
    expect(core(sim.state)).toEqual(core(before));
    expect(sim.state.ignored).toBe(before.ignored + 1);
  });

  it('is ignored with a reason once the retry runs', () => {
    const sim = dispatched({ retries: 1, backoff: { initial_ms: 0, multiplier: 1, max_ms: 0 } });
    const first = sim.dispatchOf('a');
    sim.advanceTo(first.deadline_at);
    expect(sim.state.tasks.a).toMatchObject({ status: 'running', attempt_number: 2 });
    const before = sim.state;
    expect(sim.fail('a', 'late', 1).ignored).toBe('attempt 1 is no longer current (attempt 2 is)');
    expect(core(sim.state)).toEqual(core(before));
  });

  it('is ignored after the task was skipped', () => {
    const sim = dispatched();
    sim.advanceTo(sim.dispatchOf('a').deadline_at);
    expect(sim.succeed('a').ignored).toBe('execution already ended (partial)');
  });
});
