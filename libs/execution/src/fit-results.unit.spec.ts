import type { ExecutionResults } from '@orchestra/contracts';
import { fitResults } from './projections.js';

const task = (task_id: string, output: unknown, error: string | null = null) => ({
  task_id,
  status: 'success' as const,
  plugin_used: 'w',
  attempt_number: 1,
  duration_ms: 1,
  output: output as never,
  error,
  attempts: [],
});
const results = (tasks: ReturnType<typeof task>[]): ExecutionResults => ({
  execution_id: 'e',
  plan_id: 'p',
  status: 'completed',
  duration_ms: 1,
  started_at: null,
  finished_at: null,
  phases: [{ phase_id: 'a', status: 'completed', tasks }],
  summary: { total_tasks: tasks.length, successful: tasks.length, failed: 0, skipped: 0, timeout: 0 },
  errors: [],
});
const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('fitResults: execution_results within one bucket value', () => {
  it('leaves results that fit untouched', () => {
    const small = results([task('t', { x: 1 })]);
    expect(fitResults(small, 10_000)).toBe(small);
  });

  it('leaves out the largest outputs first, naming them, until the value fits', () => {
    const big = results([
      task('small', 'a'.repeat(100)),
      task('huge', 'b'.repeat(5_000)),
      task('mid', 'c'.repeat(2_000)),
    ]);
    const fitted = fitResults(big, 3_000);
    expect(size(fitted)).toBeLessThanOrEqual(3_000);
    expect(fitted.omitted).toEqual({ outputs: ['huge'], errors: [], tasks: false });
    expect(fitted.phases[0]?.tasks.map((t) => t.output === null)).toEqual([false, true, false]);
    expect(fitResults(big, 3_000)).toEqual(fitted);
  });

  it('drops the task lists only when outputs and errors are not enough, and says so', () => {
    const many = results(Array.from({ length: 200 }, (_, i) => task(`t${i}`, null)));
    const fitted = fitResults(many, 2_000);
    expect(size(fitted)).toBeLessThanOrEqual(2_000);
    expect(fitted.omitted?.tasks).toBe(true);
    expect(fitted.summary.total_tasks).toBe(200);
  });
});
