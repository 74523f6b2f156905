import type { TaskOutcome } from '@orchestra/contracts';
import { onePhase, phase, plan, Simulation, specFor, task } from '@orchestra/testing';
import { effectsOf } from './effects.js';
import { toExecutionResults } from './projections.js';

const s = specFor(onePhase([task('a', { retries: 1 }), task('b')]));
const running = [s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b')];

/** The success of attempt 1 of `a`, with some fields replaced. */
function successOfA(patch: Partial<TaskOutcome>) {
  const input = s.success('a', 1);
  if (input.kind !== 'outcome') throw new Error('not an outcome');
  return { ...input, outcome: { ...input.outcome, ...patch } as TaskOutcome };
}

describe('an outcome that does not apply', () => {
  it('is ignored when it is a duplicate of an applied success', () => {
    s.given(...running, s.succeeded('a', 1))
      .when(s.success('a', 1))
      .thenIgnored('attempt 1 already ended (success)', { recorded: true });
  });

  it('is ignored when it is a duplicate of a failure whose retry waits', () => {
    s.given(...running, s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 200 }))
      .when(s.failure('a', 'boom'))
      .thenIgnored('attempt 1 already ended (retry_wait)', { recorded: true });
  });

  it('is ignored when it names a task that is not in the plan', () => {
    s.given(...running)
      .when(successOfA({ task_id: 'zzz' }))
      .thenIgnored('task "zzz" is not in the plan', { recorded: true });
  });

  it('is ignored when it names the wrong phase', () => {
    s.given(...running)
      .when(successOfA({ phase_id: 'p9' }))
      .thenIgnored('task "a" is in phase "p1", not "p9"', { recorded: true });
  });

  it('is ignored when its attempt was never dispatched', () => {
    s.given(...running)
      .when(s.success('a', 1, { attempt: 2 }))
      .thenIgnored('attempt 2 was never dispatched', { recorded: true });
  });

  it('is ignored when it comes from another plugin than the attempt was dispatched to', () => {
    s.given(...running)
      .when(s.success('a', 1, { plugin: 'other' }))
      .thenIgnored('attempt 1 was dispatched to "worker", not "other"', { recorded: true });
  });

  it('is ignored, with no event, when the execution is unknown', () => {
    s.given().when(s.success('a', 1)).thenIgnored('unknown execution');
    s.given()
      .when(s.timer('deadline', 'a', 1, 1_060_000))
      .thenIgnored('execution is not running');
  });

  it('is ignored, with no event, when it is addressed to another execution', () => {
    const other = specFor(s.plan, 'exec-2');
    s.given(...running)
      .when(other.success('a', 1))
      .thenIgnored('input is for execution "exec-2", not "exec-1"');
  });
});

describe('a cancel', () => {
  it('records ExecutionCancelled, skips every unfinished task and ends the run cancelled', () => {
    const c = specFor(
      plan([
        phase('p1', [task('a'), task('b', { retries: 1 }), task('c')]),
        phase('p2', [task('d')], { depends_on_phases: ['p1'] }),
      ]),
    );
    const reason = 'execution cancelled: operator said so';
    const decision = c
      .given(
        c.started(),
        c.phaseStarted('p1'),
        c.dispatched('a'),
        c.dispatched('b'),
        c.dispatched('c'),
        c.succeeded('a', 1),
        c.failed('b', 'boom'),
        c.retryScheduled('b', { delay_ms: 200 }),
      )
      .when(c.cancel('operator said so'))
      .then(
        c.cancelled('operator said so'),
        c.skipped('b', reason),
        c.skipped('c', reason),
        c.phaseFinished('p1', 'cancelled'),
        c.skipped('d', reason),
        c.phaseFinished('p2', 'cancelled'),
        c.finished('cancelled'),
      );
    expect(effectsOf(decision.state, decision.events)).toContainEqual({
      kind: 'cancel-notice',
      execution_id: 'exec-1',
    });
    const results = toExecutionResults(decision.state);
    expect(results.status).toBe('cancelled');
    expect(results.errors).toEqual(['operator said so']);
    expect(results.summary).toMatchObject({ successful: 1, skipped: 3 });
  });

  it('has a default reason', () => {
    const reason = 'execution cancelled: cancelled on request';
    s.given(...running)
      .when(s.cancel())
      .then(
        s.cancelled('cancelled on request'),
        s.skipped('a', reason),
        s.skipped('b', reason),
        s.phaseFinished('p1', 'cancelled'),
        s.finished('cancelled'),
      );
  });

  it('is ignored when the execution has finished', () => {
    const { state } = s
      .given(
        ...running,
        s.succeeded('a', 1),
        s.succeeded('b', 2),
        s.phaseFinished('p1', 'completed'),
        s.finished('completed'),
      )
      .when(s.cancel())
      .thenIgnored('execution already ended (completed)');
    expect(state.result).toBe('completed');
  });

  it('is ignored when the execution is unknown', () => {
    s.given().when(s.cancel()).thenIgnored('unknown execution');
  });
});

describe('ExecutePlan', () => {
  it('is ignored the second time for the same execution', () => {
    s.given(...running)
      .when(s.execute(onePhase([task('x')])))
      .thenIgnored('execution exec-1 already exists (running)');
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
        reason: 'invalid plan: 2 problem(s)',
      }),
    ]);
    // Every problem of every kind at once (validatePlan), in the order the plan reads.
    const issues = sim.eventsOf('ExecutionRejected')[0]?.issues;
    expect(issues).toEqual([
      { path: 'phases[0].tasks[0].depends_on[0]', message: expect.stringContaining('ghost') },
      { path: 'phases[0].tasks[1].retries', message: expect.any(String) },
    ]);

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
