import type { DispatchTask, TaskOutcome, Timer } from '@orchestra/contracts';
import { onePhase, outcomeOf, phase, plan, task } from '@orchestra/testing';
import fc from 'fast-check';
import { type DecisionInput, decide, decideAll } from './decide.js';
import { effectsOf } from './effects.js';
import { fold } from './evolve.js';
import { toExecutionResults } from './projections.js';
import type { ExecutionState } from './state.js';
import { initialState } from './state.js';

const NOW = 1_000_000;

function dispatchesOf(state: ExecutionState, events: Parameters<typeof effectsOf>[1]): DispatchTask[] {
  return effectsOf(state, events).flatMap((effect) => (effect.kind === 'dispatch' ? [effect.command] : []));
}

/** What the world does next for an execution: answer a dispatch, or fire a retry timer. */
function nextInputs(
  state: ExecutionState,
  events: Parameters<typeof effectsOf>[1],
): (DispatchTask | Timer)[] {
  return effectsOf(state, events).flatMap((effect): (DispatchTask | Timer)[] => {
    if (effect.kind === 'dispatch') return [effect.command];
    if (effect.kind === 'timer' && effect.timer.kind === 'retry') return [effect.timer];
    return [];
  });
}

function started(planInput: unknown, id = 'exec-1') {
  const decision = decide(
    initialState(),
    { kind: 'execute', execution_id: id, plan: planInput },
    { now: NOW },
  );
  return { ...decision, dispatches: dispatchesOf(decision.state, decision.events) };
}

/** A value without its times and durations: grouping changes how many rounds a run takes. */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.endsWith('_at') && key !== 'duration_ms')
      .map(([key, v]) => [key, withoutTimes(v)]),
  );
}

const succeed = (command: DispatchTask, n = 0): DecisionInput => ({
  kind: 'outcome',
  outcome: outcomeOf(command, { kind: 'succeed', output: { n, task: command.task_id } }, NOW + 10),
});

describe('decideAll: several inputs of one execution in one decision', () => {
  it('decides all outcomes of a wide phase at once, with the results of deciding them one by one', () => {
    const wide = onePhase(Array.from({ length: 50 }, (_, i) => task(`t${i}`)));
    const start = started(wide);
    expect(start.dispatches).toHaveLength(50);
    const inputs = start.dispatches.map((command, i) => succeed(command, i));

    const batch = decideAll(start.state, inputs, { now: NOW + 20 });
    expect(batch.ignored).toEqual(inputs.map(() => null));
    expect(batch.events.map((event) => event.type)).toEqual([
      ...inputs.map(() => 'TaskSucceeded'),
      'PhaseFinished',
      'ExecutionFinished',
    ]);

    let oneByOne = start.state;
    for (const input of inputs) oneByOne = decide(oneByOne, input, { now: NOW + 20 }).state;
    expect(toExecutionResults(batch.state, 'exec-1')).toEqual(toExecutionResults(oneByOne, 'exec-1'));
    // State is a fold: the decision's state is what folding its events gives.
    expect(batch.state).toEqual(fold([...start.events, ...batch.events]));
  });

  it('records a duplicate within the same batch as ignored, and says which input it was', () => {
    const start = started(onePhase([task('a'), task('b')]));
    const [a] = start.dispatches as [DispatchTask];
    const batch = decideAll(start.state, [succeed(a), succeed(a)], { now: NOW + 20 });
    expect(batch.ignored[0]).toBeNull();
    expect(batch.ignored[1]).toMatch(/already ended/);
    expect(batch.events.map((event) => event.type)).toEqual(['TaskSucceeded', 'OutcomeIgnored']);
  });

  it('lets a later input see the effect of an earlier one: execute, then cancel', () => {
    const execute: DecisionInput = { kind: 'execute', execution_id: 'exec-1', plan: onePhase([task('a')]) };
    const cancel: DecisionInput = { kind: 'cancel', execution_id: 'exec-1' };
    const cancelFirst = decideAll(initialState(), [cancel, execute], { now: NOW });
    expect(cancelFirst.ignored).toEqual(['unknown execution', null]);
    expect(cancelFirst.state.status).toBe('running');

    const executeFirst = decideAll(initialState(), [execute, cancel], { now: NOW });
    expect(executeFirst.ignored).toEqual([null, null]);
    expect(executeFirst.events.map((event) => event.type)).toContain('ExecutionCancelled');
  });

  it('ignores an input of another execution and still applies the rest', () => {
    const start = started(onePhase([task('a')]));
    const [a] = start.dispatches as [DispatchTask];
    const foreign = succeed({ ...a, execution_id: 'exec-2' });
    const batch = decideAll(start.state, [foreign, succeed(a)], { now: NOW + 20 });
    expect(batch.ignored[0]).toBe('input is for execution "exec-2", not "exec-1"');
    expect(batch.ignored[1]).toBeNull();
    expect(batch.state.status).toBe('finished');
  });

  it('returns the given state itself when nothing changes', () => {
    const start = started(onePhase([task('a')]));
    const batch = decideAll(start.state, [{ kind: 'cancel', execution_id: 'exec-2' }], { now: NOW });
    expect(batch.events).toEqual([]);
    expect(batch.state).toBe(start.state);
  });

  it('ends with the same results however the outcomes are grouped (retries, failures, dependencies)', () => {
    const planInput = plan([
      phase('p1', [task('a', { retries: 1 }), task('b'), task('c', { depends_on: ['a'] })]),
      phase('p2', [task('d'), task('e', { retries: 2 })], { depends_on_phases: ['p1'] }),
    ]);
    // For each attempt of each task, whether it fails; grouping: how many waiting outcomes each
    // decision takes.
    const world = fc.record({
      fails: fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
      groups: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 20, maxLength: 20 }),
    });
    fc.assert(
      fc.property(world, ({ fails, groups }) => {
        const run = (groupSizes: readonly number[]) => {
          const start = started(planInput);
          let state = start.state;
          const events = [...start.events];
          const waiting = nextInputs(state, events);
          // Each round moves the clock past any retry's backoff; no deadline timer is ever fired.
          let later = NOW;
          let attempt = 0;
          let round = 0;
          while (waiting.length > 0 && round < 200) {
            const take = groupSizes[round % groupSizes.length] ?? 1;
            round += 1;
            later += 1_000_000;
            const inputs = waiting.splice(0, take).map((item): DecisionInput => {
              if (item.type === 'Timer') return { kind: 'timer', timer: item };
              const answer = fails[attempt++ % fails.length]
                ? ({ kind: 'fail', message: 'no' } as const)
                : ({ kind: 'succeed', output: item.task_id } as const);
              return { kind: 'outcome', outcome: outcomeOf(item, answer, later) as TaskOutcome };
            });
            const decision = decideAll(state, inputs, { now: later });
            state = decision.state;
            events.push(...decision.events);
            waiting.push(...nextInputs(state, decision.events));
          }
          expect(state.status).toBe('finished');
          expect(state).toEqual(fold(events));
          return withoutTimes(toExecutionResults(state, 'exec-1'));
        };
        expect(run(groups)).toEqual(run([1]));
      }),
      { numRuns: 200 },
    );
  });
});
