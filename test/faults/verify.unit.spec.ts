import type { ExecutionEvent } from '@orchestra/contracts';
import { decide, fold, initialState, toExecutionResults } from '@orchestra/execution';
import { faultPlan } from './plans.js';
import { verifyExecution } from './verify.js';

/** The fault suite's verdicts must be able to fail: each check is shown to catch its defect. */
describe('fault suite verification', () => {
  const { plan, expected } = faultPlan(2); // retry-and-fallback: three tasks that all succeed
  const at = 1_000;
  const started = decide(initialState(), { kind: 'execute', execution_id: 'e', plan }, { now: at }).events;
  const succeed = (task_id: string, attempt: number, output: unknown): ExecutionEvent => ({
    type: 'TaskSucceeded',
    execution_id: 'e',
    at,
    phase_id: 'p',
    task_id,
    attempt_number: attempt,
    plugin_used: 'builtin',
    output: output as never,
    duration_ms: 1,
  });
  const finish: ExecutionEvent[] = [
    { type: 'PhaseFinished', execution_id: 'e', at, phase_id: 'p', status: 'completed' },
    { type: 'ExecutionFinished', execution_id: 'e', at, status: 'completed' },
  ];
  const good = [
    ...started,
    succeed('flaky', 1, { failures: 2, n: 2 }),
    succeed('fallback', 1, { failures: 1, n: 2 }),
    succeed('unserved', 1, { n: 2 }),
    ...finish,
  ];
  const stored = (events: ExecutionEvent[]) => toExecutionResults(fold(events), 'e');

  it('passes a faithful run', () => {
    const verdict = verifyExecution('e', good, stored(good), expected);
    expect(verdict).toMatchObject({
      lost: false,
      unfinished: false,
      doubleCounted: [],
      replayMismatch: false,
      mismatches: [],
    });
  });

  it('finds a lost execution, a missing end and a second terminal event for a task', () => {
    expect(verifyExecution('e', [], null, expected).lost).toBe(true);
    const unfinished = good.slice(0, -1);
    expect(verifyExecution('e', unfinished, stored(unfinished), expected).unfinished).toBe(true);
    const doubled = [...good.slice(0, -2), succeed('flaky', 1, { failures: 2, n: 2 }), ...finish];
    expect(verifyExecution('e', doubled, stored(doubled), expected).doubleCounted).toEqual(['flaky']);
  });

  it('finds stored results that differ from the log and outputs that differ from a fault-free run', () => {
    const wrongStore = { ...stored(good), status: 'partial' as const };
    expect(verifyExecution('e', good, wrongStore, expected)).toMatchObject({
      replayMismatch: true,
      replayDifference: '$.status: stored "partial", recomputed "completed"',
    });
    const wrongOutput = [
      ...started,
      succeed('flaky', 1, { failures: 2, n: 99 }),
      ...good.slice(started.length + 1),
    ];
    expect(verifyExecution('e', wrongOutput, stored(wrongOutput), expected).mismatches).toEqual([
      'flaky: output {"failures":2,"n":99} ≠ {"failures":2,"n":2}',
    ]);
  });
});
