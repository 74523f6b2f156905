import { IndexedResults, summarize } from './summary.js';

const stored = {
  execution_id: 'x-1',
  plan_id: 'p',
  status: 'partial',
  duration_ms: 1200,
  started_at: '2026-02-04T10:00:00.000Z',
  finished_at: '2026-02-04T10:00:01.200Z',
  phases: [
    {
      phase_id: 'a',
      status: 'partial',
      tasks: [
        { task_id: 't1', status: 'success', plugin_used: 'agent@x', attempt_number: 1, attempts: [] },
        { task_id: 't2', status: 'skipped', plugin_used: 'builtin', attempt_number: 3 },
        { task_id: 't3', status: 'skipped', plugin_used: null, attempt_number: 0 },
      ],
    },
  ],
  summary: { total_tasks: 3, successful: 1, failed: 0, skipped: 2, timeout: 0 },
  errors: ['t2: boom'],
};

describe('a row of the executions list', () => {
  it('is made from execution_results of any version that has the fields it reads', () => {
    const parsed = IndexedResults.parse(stored);
    expect(summarize(parsed, 7)).toEqual({
      execution_id: 'x-1',
      plan_id: 'p',
      status: 'partial',
      started_at: Date.parse('2026-02-04T10:00:00.000Z'),
      finished_at: Date.parse('2026-02-04T10:00:01.200Z'),
      duration_ms: 1200,
      total: 3,
      successful: 1,
      failed: 0,
      skipped: 2,
      timeout: 0,
      running: 0,
      plugins: ['agent@x', 'builtin'],
      error: 't2: boom',
      revision: 7,
    });
  });

  it('refuses a value whose status or summary is not the contract', () => {
    expect(IndexedResults.safeParse({ ...stored, status: 'done' }).success).toBe(false);
    expect(IndexedResults.safeParse({ ...stored, summary: { total_tasks: 'three' } }).success).toBe(false);
  });
});
