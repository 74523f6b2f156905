import { onePhase, phase, plan, specFor, T0, task } from '@orchestra/testing';
import { nextStepAfterFailure } from './failure-policy.js';
import { toExecutionResults } from './projections.js';

// The failure policy, rule by rule (failure-policy.ts): given a history, when an attempt fails,
// then exactly these events.

const refused = { message: 'HTTP 401: bad key', code: 'HTTP_401', retryable: false } as const;

describe('after a failed attempt', () => {
  it('retries on the assigned plugin while retries remain, after the backoff', () => {
    const s = specFor(
      onePhase([task('a', { retries: 2, backoff: { initial_ms: 100, multiplier: 3, max_ms: 1_000 } })]),
    );
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', 'boom'), { now: T0 + 5 })
      .then(s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 100, at: T0 + 5 }));
  });

  it('hands the task to the fallback plugin once the retries are spent, counting attempts on', () => {
    const s = specFor(onePhase([task('a', { retries: 1, fallback_plugin: 'backup' })]));
    const history = [s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.failed('a', 'one')];
    s.given(
      ...history,
      s.retryScheduled('a', { delay_ms: 200 }),
      s.dispatched('a', { attempt: 2, kind: 'retry' }),
    )
      .when(s.failure('a', 'two', { attempt: 2 }))
      .then(s.failed('a', 'two', { attempt: 2 }), s.dispatched('a', { attempt: 3, kind: 'fallback' }));
  });

  it('skips the task with its last error under continue, and the run goes on to its end', () => {
    const s = specFor(onePhase([task('a'), task('b')]));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'), s.succeeded('b', 1))
      .when(s.failure('a', 'disk full'))
      .then(
        s.failed('a', 'disk full'),
        s.skipped('a', 'gave up after 1 attempt: disk full'),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
  });

  it('gives up under abort: no new task starts, unfinished tasks are skipped, every open phase ends', () => {
    const s = specFor(
      plan(
        [
          phase('p1', [task('a'), task('b')]),
          phase('p2', [task('c'), task('d')], { execution_mode: 'sequential' }),
          phase('p3', [task('e')], { depends_on_phases: ['p1'] }),
        ],
        { on_partial_failure: 'abort' },
      ),
    );
    const reason = 'task "a" gave up after 1 attempt: disk full; on_partial_failure is abort';
    const aborted = `execution aborted: ${reason}`;
    s.given(
      s.started(),
      s.phaseStarted('p1'),
      s.dispatched('a'),
      s.dispatched('b'),
      s.phaseStarted('p2'),
      s.dispatched('c'),
      s.succeeded('c', 1),
      s.dispatched('d'),
    )
      .when(s.failure('a', 'disk full'))
      .then(
        s.failed('a', 'disk full'),
        s.gaveUp('a', 'failed', reason),
        s.skipped('b', aborted),
        s.phaseFinished('p1', 'failed'),
        s.skipped('d', aborted),
        s.phaseFinished('p2', 'partial'),
        s.skipped('e', aborted),
        s.phaseFinished('p3', 'skipped'),
        s.finished('failed'),
      );
  });

  it('still retries under abort while retries remain', () => {
    const s = specFor(onePhase([task('a', { retries: 1 })], { on_partial_failure: 'abort' }));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', 'boom'))
      .then(s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 200 }));
  });

  it('gives up as timeout when the last attempt timed out', () => {
    const s = specFor(onePhase([task('a', { timeout_ms: 100 }), task('b')], { on_partial_failure: 'abort' }));
    const reason =
      'task "a" gave up after 1 attempt: attempt 1 on worker timed out after 100 ms; on_partial_failure is abort';
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b', { at: T0 + 50 }))
      .when(s.timer('deadline', 'a', 1, T0 + 100), { now: T0 + 100 })
      .then(
        s.timedOut('a', { duration_ms: 100 }),
        s.gaveUp('a', 'timeout', reason),
        s.skipped('b', `execution aborted: ${reason}`),
        s.phaseFinished('p1', 'failed'),
        s.finished('failed'),
      );
  });
});

describe('a phase-level on_partial_failure', () => {
  it('continues its phase under a plan that aborts', () => {
    const s = specFor(
      plan(
        [phase('p1', [task('a'), task('b')], { on_partial_failure: 'continue' }), phase('p2', [task('c')])],
        {
          on_partial_failure: 'abort',
        },
      ),
    );
    s.given(
      s.started(),
      s.phaseStarted('p1'),
      s.dispatched('a'),
      s.dispatched('b'),
      s.phaseStarted('p2'),
      s.dispatched('c'),
    )
      .when(s.failure('a', 'x'))
      .then(s.failed('a', 'x'), s.skipped('a', 'gave up after 1 attempt: x'));
  });

  it('aborts the run from its phase under a plan that continues', () => {
    const s = specFor(plan([phase('p1', [task('a'), task('b')], { on_partial_failure: 'abort' })]));
    const reason = 'task "a" gave up after 1 attempt: x; on_partial_failure is abort';
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.dispatched('b'))
      .when(s.failure('a', 'x'))
      .then(
        s.failed('a', 'x'),
        s.gaveUp('a', 'failed', reason),
        s.skipped('b', `execution aborted: ${reason}`),
        s.phaseFinished('p1', 'failed'),
        s.finished('failed'),
      );
  });
});

describe('a failure the plugin marks non-retryable', () => {
  it('skips the remaining retries and goes straight to the fallback plugin, recording code and flag', () => {
    const s = specFor(onePhase([task('a', { retries: 2, fallback_plugin: 'backup' })]));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', refused))
      .then(s.failed('a', refused), s.dispatched('a', { attempt: 2, kind: 'fallback' }));
  });

  it('without a fallback, ends the task at once: skipped under continue', () => {
    const s = specFor(onePhase([task('a', { retries: 3 })]));
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', refused))
      .then(
        s.failed('a', refused),
        s.skipped('a', 'gave up after 1 attempt: HTTP 401: bad key'),
        s.phaseFinished('p1', 'partial'),
        s.finished('partial'),
      );
  });

  it('on the fallback attempt, ends the task as any failure of the fallback does', () => {
    const s = specFor(onePhase([task('a', { fallback_plugin: 'backup' })], { on_partial_failure: 'abort' }));
    const reason = 'task "a" gave up after 2 attempts: HTTP 401: bad key; on_partial_failure is abort';
    s.given(
      s.started(),
      s.phaseStarted('p1'),
      s.dispatched('a'),
      s.failed('a', 'x'),
      s.dispatched('a', { attempt: 2, kind: 'fallback' }),
    )
      .when(s.failure('a', refused, { attempt: 2, plugin: 'backup' }))
      .then(
        s.failed('a', refused, { attempt: 2, plugin: 'backup' }),
        s.gaveUp('a', 'failed', reason),
        s.phaseFinished('p1', 'failed'),
        s.finished('failed'),
      );
  });

  it('only concerns its own attempt: a retryable failure with a code is retried as usual', () => {
    const s = specFor(onePhase([task('a', { retries: 1 })]));
    const busy = { message: 'busy', code: 'HTTP_503' };
    s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.failure('a', busy))
      .then(s.failed('a', busy), s.retryScheduled('a', { delay_ms: 200 }));
  });

  it('shows in the results as the attempt that sent the task to its fallback', () => {
    const s = specFor(onePhase([task('a', { retries: 2, fallback_plugin: 'backup' })]));
    const { decision } = s
      .given(
        s.started(),
        s.phaseStarted('p1'),
        s.dispatched('a'),
        s.failed('a', refused),
        s.dispatched('a', { attempt: 2, kind: 'fallback' }),
      )
      .when(s.success('a', { ok: 1 }, { attempt: 2, plugin: 'backup' }));
    expect(toExecutionResults(decision.state).phases[0]?.tasks[0]?.attempts).toEqual([
      expect.objectContaining({
        attempt_number: 1,
        status: 'failed',
        error_code: 'HTTP_401',
        retryable: false,
      }),
      expect.objectContaining({ attempt_number: 2, kind: 'fallback', plugin: 'backup', status: 'success' }),
    ]);
  });
});

describe('nextStepAfterFailure (the policy as data)', () => {
  it('names each step with what it needs', () => {
    const s = specFor(onePhase([task('a', { retries: 1, fallback_plugin: 'backup' })]));
    const { state } = s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'), s.failed('a', 'x'));
    const entry = state.index?.tasks.a;
    const failed = state.tasks.a;
    if (!entry || !failed) throw new Error('task a missing');
    expect(nextStepAfterFailure(failed, entry)).toEqual({ kind: 'retry', delay_ms: 200 });
    expect(nextStepAfterFailure({ ...failed, last_retryable: false }, entry)).toEqual({
      kind: 'fallback',
      plugin: 'backup',
    });
    expect(nextStepAfterFailure({ ...failed, kind: 'fallback', attempt_number: 3 }, entry)).toEqual({
      kind: 'skip',
      reason: 'gave up after 3 attempts: x',
    });
  });
});

describe('tokens of agent attempts', () => {
  it('are recorded per attempt, summed per task and for the whole execution', () => {
    const s = specFor(onePhase([task('a', { retries: 1 }), task('b')]));
    const usage = (input_tokens: number, output_tokens: number) => ({
      model: 'gpt-x',
      input_tokens,
      output_tokens,
    });
    const failedWithUsage = { ...s.failed('a', 'not JSON'), usage: usage(100, 7) };
    const { decision } = s
      .given(
        s.started(),
        s.phaseStarted('p1'),
        s.dispatched('a'),
        s.dispatched('b'),
        failedWithUsage,
        s.retryScheduled('a', { delay_ms: 200 }),
        s.dispatched('a', { attempt: 2, kind: 'retry' }),
        s.succeeded('b', 1),
      )
      .when(s.success('a', { x: 1 }, { attempt: 2, usage: { ...usage(110, 20), finish_reason: 'stop' } }));
    const results = toExecutionResults(decision.state);
    const [a, b] = results.phases[0]?.tasks ?? [];
    expect(a?.attempts.map((attempt) => attempt.usage)).toEqual([
      usage(100, 7),
      { ...usage(110, 20), finish_reason: 'stop' },
    ]);
    expect(a?.usage).toEqual({ input_tokens: 210, output_tokens: 27 });
    expect(b?.usage).toBeUndefined();
    expect(results.summary.usage).toEqual({ input_tokens: 210, output_tokens: 27 });
  });
});
