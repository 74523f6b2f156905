import type { TaskOutcome } from '@orchestra/contracts';
import { onePhase, outcomeOf, phase, plan, Simulation, task } from '@orchestra/testing';
import { toExecutionResults } from './projections.js';
import type { ExecutionState } from './state.js';

const core = ({ version: _v, ignored: _i, ...rest }: ExecutionState) => rest;

function running() {
  const sim = new Simulation();
  sim.execute(onePhase([task('a', { retries: 1 }), task('b')]));
  return sim;
}

/** Feeds `outcome` and expects one OutcomeIgnored with `reason`, and no other change. */
function expectIgnored(sim: Simulation, outcome: TaskOutcome, reason: string) {
  const before = sim.state;
  const decision = sim.outcome(outcome);
  expect(decision.ignored).toBe(reason);
  expect(decision.events).toEqual([
    {
      type: 'OutcomeIgnored',
      execution_id: 'exec-1',
      at: sim.now,
      phase_id: outcome.phase_id,
      task_id: outcome.task_id,
      attempt_number: outcome.attempt_number,
      reason,
    },
  ]);
  expect(core(sim.state)).toEqual(core(before));
}

const success = (sim: Simulation, task_id = 'a') =>
  outcomeOf(sim.dispatchOf(task_id), { kind: 'succeed', output: 1 }, sim.now);

describe('an outcome that does not apply', () => {
  it('is ignored when it is a duplicate of an applied success', () => {
    const sim = running();
    sim.succeed('a');
    expectIgnored(sim, success(sim), 'attempt 1 already ended (success)');
  });

  it('is ignored when it is a duplicate of a failure whose retry waits', () => {
    const sim = running();
    sim.fail('a');
    const duplicate = outcomeOf(sim.dispatchOf('a'), { kind: 'fail', message: 'boom' }, sim.now);
    expectIgnored(sim, duplicate, 'attempt 1 already ended (retry_wait)');
  });

  it('is ignored when it names a task that is not in the plan', () => {
    const sim = running();
    expectIgnored(sim, { ...success(sim), task_id: 'zzz' }, 'task "zzz" is not in the plan');
  });

  it('is ignored when it names the wrong phase', () => {
    const sim = running();
    expectIgnored(sim, { ...success(sim), phase_id: 'p9' }, 'task "a" is in phase "p1", not "p9"');
  });

  it('is ignored when its attempt was never dispatched', () => {
    const sim = running();
    expectIgnored(sim, { ...success(sim), attempt_number: 2 }, 'attempt 2 was never dispatched');
  });

  it('is ignored when it comes from another plugin than the attempt was dispatched to', () => {
    const sim = running();
    expectIgnored(
      sim,
      { ...success(sim), plugin_used: 'other' },
      'attempt 1 was dispatched to "worker", not "other"',
    );
  });

  it('is ignored, with no event, when the execution is unknown', () => {
    const sim = running();
    const outcome = success(sim);
    const fresh = new Simulation();
    expect(fresh.outcome(outcome)).toMatchObject({ events: [], ignored: 'unknown execution' });
    expect(fresh.input({ kind: 'timer', timer: sim.timerOf('deadline', 'a') })).toMatchObject({
      events: [],
      ignored: 'execution is not running',
    });
  });

  it('is ignored, with no event, when it is addressed to another execution', () => {
    const sim = running();
    const before = sim.state;
    const decision = sim.outcome({ ...success(sim), execution_id: 'exec-2' });
    expect(decision).toMatchObject({ events: [], ignored: 'input is for execution "exec-2", not "exec-1"' });
    expect(sim.state).toBe(before);
  });
});

describe('a cancel', () => {
  it('records ExecutionCancelled, skips every unfinished task and ends the run cancelled', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('a'), task('b', { retries: 1 }), task('c')]),
        phase('p2', [task('d')], { depends_on_phases: ['p1'] }),
      ]),
    );
    sim.succeed('a');
    sim.fail('b');
    const decision = sim.cancel('operator said so');
    const reason = 'execution cancelled: operator said so';
    expect(decision.events.map((e) => e.type)).toEqual([
      'ExecutionCancelled',
      'TaskSkipped',
      'TaskSkipped',
      'PhaseFinished',
      'TaskSkipped',
      'PhaseFinished',
      'ExecutionFinished',
    ]);
    expect(sim.eventsOf('TaskSkipped').map((e) => [e.task_id, e.reason])).toEqual([
      ['b', reason],
      ['c', reason],
      ['d', reason],
    ]);
    expect(sim.eventsOf('PhaseFinished').map((e) => e.status)).toEqual(['cancelled', 'cancelled']);
    expect(sim.cancelNotices).toBe(1);
    const results = toExecutionResults(sim.state);
    expect(results.status).toBe('cancelled');
    expect(results.errors).toEqual(['operator said so']);
    expect(results.summary).toMatchObject({ successful: 1, skipped: 3 });
  });

  it('has a default reason', () => {
    const sim = running();
    expect(sim.cancel().events[0]).toMatchObject({
      type: 'ExecutionCancelled',
      reason: 'cancelled on request',
    });
  });

  it('is ignored when the execution has finished', () => {
    const sim = running();
    sim.succeed('a');
    sim.succeed('b');
    expect(sim.cancel()).toMatchObject({ events: [], ignored: 'execution already ended (completed)' });
    expect(sim.state.result).toBe('completed');
  });

  it('is ignored when the execution is unknown', () => {
    expect(new Simulation().cancel()).toMatchObject({ events: [], ignored: 'unknown execution' });
  });
});

describe('ExecutePlan', () => {
  it('is ignored the second time for the same execution', () => {
    const sim = running();
    const before = sim.state;
    expect(sim.execute(onePhase([task('x')]))).toMatchObject({
      events: [],
      ignored: 'execution exec-1 already exists (running)',
    });
    expect(sim.state).toEqual(before);
  });

  it('rejects an invalid plan with every issue as path and message', () => {
    const sim = new Simulation();
    const decision = sim.execute(
      plan([phase('p1', [task('a', { depends_on: ['ghost'] }), task('b', { retries: -1 })])]),
    );
    expect(decision.events).toEqual([
      expect.objectContaining({
        type: 'ExecutionRejected',
        plan_id: 'plan-1',
        reason: 'invalid plan: 1 problem(s)',
      }),
    ]);
    const issues = sim.eventsOf('ExecutionRejected')[0]?.issues;
    expect(issues).toEqual([{ path: 'phases[0].tasks[1].retries', message: expect.any(String) }]);

    const semantic = new Simulation();
    semantic.execute(plan([phase('p1', [task('a', { depends_on: ['ghost'] })])]));
    expect(semantic.eventsOf('ExecutionRejected')[0]?.issues).toEqual([
      { path: 'phases[0].tasks[0].depends_on[0]', message: expect.stringContaining('ghost') },
    ]);
  });

  it('gives a rejected execution the status rejected and the issues as errors', () => {
    const sim = new Simulation();
    sim.execute({ plan_id: 'bad plan', phases: [] });
    const results = toExecutionResults(sim.state);
    expect(results).toMatchObject({ execution_id: 'exec-1', status: 'rejected', plan_id: null, phases: [] });
    expect(results.errors[0]).toMatch(/^invalid plan: 2 problem\(s\)$/);
    expect(results.errors.slice(1)).toEqual([
      expect.stringMatching(/^plan_id: /),
      expect.stringMatching(/^phases: /),
    ]);
    expect(sim.eventsOf('ExecutionRejected')[0]?.plan_id).toBe('bad plan');
  });

  it('rejects something that is not a plan at all', () => {
    const sim = new Simulation();
    sim.execute('nope');
    expect(sim.eventsOf('ExecutionRejected')[0]).not.toHaveProperty('plan_id');
    expect(sim.execute(onePhase([task('a')])).ignored).toBe('execution exec-1 already exists (rejected)');
  });
});
