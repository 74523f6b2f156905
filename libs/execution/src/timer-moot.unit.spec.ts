import { onePhase, Simulation, task } from '@orchestra/testing';
import { timerIsMoot } from './effects.js';

describe('timerIsMoot: dropping timers early, never wrongly', () => {
  const deadline = (attempt_number: number) => ({
    type: 'Timer' as const,
    kind: 'deadline' as const,
    execution_id: 'exec-1',
    task_id: 't',
    attempt_number,
    due_at: 0,
  });
  const retry = (attempt_number: number) => ({ ...deadline(attempt_number), kind: 'retry' as const });

  it('keeps a retry timer of a retry the state has not seen scheduled (a lagging cache)', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase([task('t', { retries: 2, backoff: { initial_ms: 10, multiplier: 1, max_ms: 10 } })]),
    );
    expect(timerIsMoot(sim.state, retry(2))).toBe(false);
    sim.fail('t');
    expect(timerIsMoot(sim.state, retry(2))).toBe(false);
    expect(timerIsMoot(sim.state, retry(3))).toBe(false);
  });

  it('drops a retry timer once the retry is dispatched, and every timer once the execution ended', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase([task('t', { retries: 1, backoff: { initial_ms: 10, multiplier: 1, max_ms: 10 } })]),
    );
    sim.fail('t');
    sim.advanceTo(sim.now + 10);
    expect(timerIsMoot(sim.state, retry(2))).toBe(true);
    expect(timerIsMoot(sim.state, deadline(2))).toBe(false);
    sim.succeed('t');
    expect(sim.state.status).toBe('finished');
    expect(timerIsMoot(sim.state, deadline(2))).toBe(true);
  });

  it('keeps a deadline timer while the execution runs: it may stand for attempts a cache has not seen', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b'), task('c', { timeout_ms: 120_000 })]));
    const shared = sim.timerOf('deadline', 'a');
    sim.succeed('a');
    sim.succeed('b');
    expect(timerIsMoot(sim.state, shared)).toBe(false);
    sim.succeed('c');
    expect(timerIsMoot(sim.state, shared)).toBe(true);
  });
});
