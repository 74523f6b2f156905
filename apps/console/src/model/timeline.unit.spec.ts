import { onePhase, Simulation, task } from '@orchestra/testing';
import { attemptSegments, timelineOf, usageOf } from './timeline.js';

/** The decider's own event logs (libs/execution's Simulation), read by the timeline. */
describe('the timeline of an execution', () => {
  it('has one bar per attempt — first, retry, fallback — and the backoff wait between them', () => {
    const sim = new Simulation();
    const backoff = { initial_ms: 100, multiplier: 2, max_ms: 1_000 };
    sim.execute(onePhase([task('a', { retries: 1, backoff, fallback_plugin: 'spare' })]));
    sim.now += 40;
    sim.fail('a', 'first failure');
    sim.advanceTo(sim.now + 100);
    sim.now += 30;
    sim.fail('a', 'second failure');
    sim.now += 20;
    sim.succeed('a', { done: true });

    const a = timelineOf(sim.log).tasks.get('a');
    expect(a?.attempts.map((x) => [x.attempt_number, x.kind, x.outcome, x.plugin])).toEqual([
      [1, 'first', 'failed', 'worker'],
      [2, 'retry', 'failed', 'worker'],
      [3, 'fallback', 'succeeded', 'spare'],
    ]);
    expect(a?.attempts[0]?.error).toBe('first failure');
    expect(a?.attempts[2]?.output).toEqual({ done: true });
    const backoffs = a?.waits.filter((w) => w.kind === 'backoff') ?? [];
    expect(backoffs).toHaveLength(1);
    expect(backoffs[0]?.to).toBe(a?.attempts[1]?.dispatched_at);
  });

  it('ends attempts still in flight when the execution is cancelled', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b')]));
    sim.succeed('a');
    sim.now += 500;
    sim.cancel('enough');
    sim.advanceTo(sim.now + 120_000);
    const timeline = timelineOf(sim.log);
    expect(timeline.finished_at).not.toBeNull();
    expect(timeline.tasks.get('b')?.attempts[0]?.outcome).toBe('abandoned');
  });

  it('does not split a timed-out attempt: no plugin said how long it ran', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('slow', { timeout_ms: 500 })]));
    sim.advanceTo(sim.now + 2_000);
    const [attempt] = timelineOf(sim.log).tasks.get('slow')?.attempts ?? [];
    expect(attempt?.outcome).toBe('timeout');
    expect(attempt?.run_ms).toBeNull();
    expect(attempt && attemptSegments(attempt)).toBeNull();
  });

  it('tells the queued part of an attempt from the part the plugin ran', () => {
    const attempt = { dispatched_at: 1_000, ended_at: 1_500, run_ms: 300 };
    expect(attemptSegments(attempt as Parameters<typeof attemptSegments>[0])).toEqual({
      queued_ms: 200,
      run_ms: 300,
    });
    expect(
      attemptSegments({ ...attempt, ended_at: null } as Parameters<typeof attemptSegments>[0]),
    ).toBeNull();
  });

  it("reads an agent plugin's usage when an event carries one, and ignores a malformed one", () => {
    expect(
      usageOf({ usage: { model: 'm', input_tokens: 12, output_tokens: 3, finish_reason: 'stop' } }),
    ).toEqual({
      model: 'm',
      input_tokens: 12,
      output_tokens: 3,
      finish_reason: 'stop',
    });
    expect(usageOf({ usage: { input_tokens: 'many' } })).toBeNull();
    expect(usageOf({})).toBeNull();
  });
});
