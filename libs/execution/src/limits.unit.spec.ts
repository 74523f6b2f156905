import { LIMITS } from '@orchestra/contracts';
import { onePhase, phase, plan, Simulation, task } from '@orchestra/testing';
import { toExecutionResults } from './projections.js';

describe('size limits that keep every event within one message', () => {
  it('lists at most LIMITS.issuesPerRejection issues in a rejection', () => {
    const sim = new Simulation();
    const tasks = Array.from({ length: LIMITS.issuesPerRejection + 50 }, (_, i) =>
      task(`t${i}`, { retries: 99 }),
    );
    sim.execute(onePhase(tasks));
    const [rejection] = sim.log;
    expect(rejection?.type).toBe('ExecutionRejected');
    if (rejection?.type !== 'ExecutionRejected') return;
    expect(rejection.reason).toBe(`invalid plan: ${LIMITS.issuesPerRejection + 50} problem(s)`);
    expect(rejection.issues).toHaveLength(LIMITS.issuesPerRejection);
  });

  it('skips a task whose input grows past LIMITS.inputBytes once references are resolved', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('a', [task('big')]),
        phase('b', [task('uses', { input_context: { one: '${a.big.output}', two: '${a.big.output}' } })], {
          depends_on_phases: ['a'],
        }),
      ]),
    );
    sim.succeed('big', { blob: 'y'.repeat(LIMITS.inputBytes / 2 + 10) });
    const uses = toExecutionResults(sim.state).phases[1]?.tasks[0];
    expect(uses?.status).toBe('skipped');
    expect(uses?.error).toMatch(/resolved input_context is \d+ bytes as JSON; the limit is/);
    expect(sim.state.status).toBe('finished');
  });
});
