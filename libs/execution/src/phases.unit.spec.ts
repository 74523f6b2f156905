import { onePhase, phase, plan, specFor, task } from '@orchestra/testing';

describe('phases', () => {
  it('start when every phase in their depends_on_phases has finished, phases without dependencies at once', () => {
    const s = specFor(
      plan([
        phase('p1', [task('a')]),
        phase('p2', [task('b')], { depends_on_phases: ['p1', 'p3'] }),
        phase('p3', [task('c')]),
      ]),
    );
    s.given()
      .when(s.execute())
      .then(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.phaseStarted('p3'), s.dispatched('c'))
      .when(s.success('a', 1))
      .then(s.succeeded('a', 1), s.phaseFinished('p1', 'completed'))
      .when(s.success('c', 1))
      .then(s.succeeded('c', 1), s.phaseFinished('p3', 'completed'), s.phaseStarted('p2'), s.dispatched('b'));
  });

  const twoPhases = specFor(
    plan([phase('p1', [task('a')]), phase('p2', [task('b')], { depends_on_phases: ['p1'] })]),
  );
  const running = [twoPhases.started(), twoPhases.phaseStarted('p1'), twoPhases.dispatched('a')];

  it('start after an upstream phase that ended partial, under continue', () => {
    const s = twoPhases;
    s.given(...running)
      .when(s.failure('a', 'boom'))
      .then(
        s.failed('a', 'boom'),
        s.skipped('a', 'gave up after 1 attempt: boom'),
        s.phaseFinished('p1', 'partial'),
        s.phaseStarted('p2'),
        s.dispatched('b'),
      );
  });

  it('finish completed, and the execution completed, when every task succeeded', () => {
    const s = twoPhases;
    s.given(...running)
      .when(s.success('a', 1))
      .then(s.succeeded('a', 1), s.phaseFinished('p1', 'completed'), s.phaseStarted('p2'), s.dispatched('b'))
      .when(s.success('b', 2))
      .then(s.succeeded('b', 2), s.phaseFinished('p2', 'completed'), s.finished('completed'));
  });
});

describe('a parallel phase', () => {
  it('dispatches every ready task in the same decision', () => {
    const s = specFor(onePhase([task('a'), task('b'), task('c')], { execution_mode: 'parallel' }));
    s.given()
      .when(s.execute())
      .then(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'), s.dispatched('c'));
  });

  it('is the default execution mode', () => {
    const s = specFor(onePhase([task('a'), task('b')]));
    s.given().when(s.execute()).then(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'));
  });

  it('finishes only when its last task has ended', () => {
    const s = specFor(onePhase([task('a'), task('b')]));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'))
      .when(s.success('b', 2))
      .then(s.succeeded('b', 2))
      .when(s.success('a', 1))
      .then(s.succeeded('a', 1), s.phaseFinished('p1', 'completed'), s.finished('completed'));
  });
});

describe('a sequential phase', () => {
  const sequential = { execution_mode: 'sequential' } as const;

  it('runs one task at a time, in listed order', () => {
    const s = specFor(onePhase([task('c'), task('a'), task('b')], sequential));
    const { state } = s
      .given()
      .when(s.execute())
      .then(s.started(), s.phaseStarted('p1'), s.dispatched('c'))
      .when(s.success('c', 1))
      .then(s.succeeded('c', 1), s.dispatched('a'))
      .when(s.success('a', 2))
      .then(s.succeeded('a', 2), s.dispatched('b'))
      .when(s.success('b', 3))
      .then(s.succeeded('b', 3), s.phaseFinished('p1', 'completed'), s.finished('completed'));
    expect(state.result).toBe('completed');
  });

  it('does not start the next task while the current one waits for a retry', () => {
    const s = specFor(onePhase([task('a', { retries: 1 }), task('b')], sequential));
    const { state } = s
      .given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', 'boom'))
      .then(s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 200 }));
    expect(state.tasks.a?.status).toBe('retry_wait');
  });

  it('still runs the next task after a skipped one', () => {
    const s = specFor(onePhase([task('a'), task('b')], sequential));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', 'boom'))
      .then(s.failed('a', 'boom'), s.skipped('a', 'gave up after 1 attempt: boom'), s.dispatched('b'));
  });
});

describe('depends_on within a phase', () => {
  it('holds a task back until the tasks it depends on have succeeded', () => {
    const s = specFor(onePhase([task('a'), task('b', { depends_on: ['a', 'c'] }), task('c')]));
    s.given()
      .when(s.execute())
      .then(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('c'))
      .when(s.success('a', 1))
      .then(s.succeeded('a', 1))
      .when(s.success('c', 3))
      .then(s.succeeded('c', 3), s.dispatched('b'));
  });

  it('skips a task whose dependency did not succeed, naming the dependency', () => {
    const s = specFor(
      onePhase([task('a'), task('b', { depends_on: ['a'] }), task('c', { depends_on: ['b'] })]),
    );
    const { state } = s
      .given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', 'no data'))
      .then(
        s.failed('a', 'no data'),
        s.skipped('a', 'gave up after 1 attempt: no data'),
        s.skipped('b', 'dependency "a" did not succeed (skipped)'),
        s.skipped('c', 'dependency "b" did not succeed (skipped)'),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
    expect(state.tasks.b?.error).toBe('dependency "a" did not succeed (skipped)');
    expect(state.result).toBe('partial');
  });
});
