import type { ExecutionEvent } from '@orchestra/contracts';
import { phase, plan, Simulation, task } from '@orchestra/testing';
import { fold } from './evolve.js';
import { toExecutionResults } from './projections.js';

describe('the fold accepts any log, but only meaningful transitions move a task', () => {
  const sim = new Simulation();
  sim.execute(plan([phase('a', [task('first')]), phase('b', [task('later')], { depends_on_phases: ['a'] })]));
  const base = { execution_id: 'exec-1', at: sim.now, plugin_used: 'worker', duration_ms: 1 };

  it.each<[string, ExecutionEvent]>([
    [
      'a success of a task never dispatched',
      { type: 'TaskSucceeded', ...base, phase_id: 'b', task_id: 'later', attempt_number: 1, output: 1 },
    ],
    [
      'a success of an attempt that is not the running one',
      { type: 'TaskSucceeded', ...base, phase_id: 'a', task_id: 'first', attempt_number: 2, output: 1 },
    ],
    [
      'a failure naming the wrong phase',
      { type: 'TaskFailed', ...base, phase_id: 'b', task_id: 'first', attempt_number: 1, error: 'x' },
    ],
    [
      'a timeout of a task never dispatched',
      { type: 'TaskTimedOut', ...base, phase_id: 'b', task_id: 'later', attempt_number: 1 },
    ],
  ])('ignores %s', (_name, forged) => {
    const folded = fold([...sim.log, forged]);
    expect(toExecutionResults(folded)).toEqual(toExecutionResults(sim.state));
    expect(folded.version).toBe(sim.state.version + 1);
  });
});
