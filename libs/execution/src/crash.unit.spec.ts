// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { phase, plan, Simulation, task, type World } from '@orchestra/testing';
import type { DecisionInput } from './decide.js';
import { fold } from './evolve.js';
import { toExecutionResults } from './projections.js';

const backoff = { initial_ms: 50, multiplier: 2, max_ms: 1_000 };

/** Retries, a timeout, a fallback, a reference, a sequential phase and a skipped dependency. */
const PLAN = plan([
  phase('p1', [
    task('a'),
    task('b', { retries: 1, backoff, timeout_ms: 100 }),
    task('c', { fallback_plugin: 'backup' }),
  ]),
  phase(
    'p2',
    [task('d', { input_context: { n: '${p1.a.output.n}' } }), task('e', { retries: 1, backoff }), task('f')],
    { depends_on_phases: ['p1'], execution_mode: 'sequential' },
  ),
  phase('p3', [task('g', { depends_on: ['h'] }), task('h')], { depends_on_phases: ['p1'] }),
]);

/** Answers depend only on task and attempt, so a run after a crash meets the same world. */
const world: World = ({ task_id, attempt_number }) => {
  if (task_id === 'b' && attempt_number === 1) return { kind: 'silent' };
  if ((task_id === 'c' || task_id === 'e' || task_id === 'h') && attempt_number === 1)
    return { kind: 'fail', message: `${task_id} failed` };
  if (task_id === 'e' || task_id === 'h') return { kind: 'fail', message: `${task_id} failed again` };
  return { kind: 'succeed', output: { n: attempt_number, task_id } };
};

/** Runs until `decisions` inputs have been decided (all of them if undefined). */
function runUntil(sim: Simulation, planInput: unknown, decisions?: number) {
  sim.execute(planInput);
  while (decisions === undefined || sim.decisions < decisions) if (!sim.step(world)) break;
}

/** The number of events of each decision of an uninterrupted run. */
function reference(planInput: unknown) {
  const sim = new Simulation();
  const sizes: number[] = [];
  sim.execute(planInput);
  sizes.push(sim.lastDecision?.events.length ?? 0);
  while (sim.step(world)) if (sim.decisions > sizes.length) sizes.push(sim.lastDecision?.events.length ?? 0);
  return { results: toExecutionResults(sim.state), sizes };
}

/** Every (decision, kept prefix) pair where the crash loses at least one event. */
function crashPoints(sizes: number[]): [number, number][] {
  return sizes.flatMap((size, i) =>
    Array.from({ length: size }, (_, keep): [number, number] => [i + 1, keep]),
  );
}

const anotherInput = (sim: Simulation): DecisionInput => ({
  kind: 'outcome',
  outcome: {
    type: 'TaskOutcome',
    status: 'succeeded',
    output: null,
    execution_id: sim.executionId,
    phase_id: 'p1',
    task_id: 'not-in-plan',
    attempt_number: 1,
    plugin_used: 'worker',
    duration_ms: 1,
    finished_at: sim.now,
  },
});

describe.each([
  ['continue', PLAN],
  ['abort', { ...PLAN, on_partial_failure: 'abort' }],
])('a crash in the middle of a decision, under %s', (policy, planInput) => {
  const { results, sizes } = reference(planInput);

  it('is a run worth crashing: several decisions, retries, fallback, timeout', () => {
    expect(sizes.length).toBeGreaterThan(5);
    expect(results.status).toBe(policy === 'abort' ? 'failed' : 'partial');
  });

  it.each(crashPoints(sizes))(
    'after decision %i with %i event(s) kept, then the same input again, reaches the same results',
    (decision, keep) => {
      const sim = new Simulation();
      runUntil(sim, planInput, decision);
      const input = sim.lastInput as DecisionInput;
      sim.crash(keep);
      expect(sim.state).toEqual(fold(sim.log));
      sim.input(input);
      sim.run(world);
      expect(toExecutionResults(sim.state)).toEqual(results);
    },
  );

  it.each(crashPoints(sizes).filter(([, keep]) => keep > 0))(
    'after decision %i with %i event(s) kept, then any other input, reaches the same results',
    (decision, keep) => {
      const sim = new Simulation();
      runUntil(sim, planInput, decision);
      sim.crash(keep);
      sim.input(anotherInput(sim));
      sim.run(world);
      expect(toExecutionResults(sim.state)).toEqual(results);
    },
  );
});
