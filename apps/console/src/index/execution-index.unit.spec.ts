import type { ExecutionSummary } from '../model/api-types.js';
import { ExecutionIndex } from './execution-index.js';
import { NO_FILTER } from './summary.js';

function row(n: number, extra: Partial<ExecutionSummary> = {}): ExecutionSummary {
  return {
    execution_id: `x-${String(n).padStart(6, '0')}`,
    plan_id: n % 2 === 0 ? 'even' : 'odd',
    status: n % 3 === 0 ? 'failed' : 'completed',
    started_at: 1_000_000 + n,
    finished_at: null,
    duration_ms: null,
    total: 1,
    successful: 1,
    failed: 0,
    skipped: 0,
    timeout: 0,
    running: 0,
    plugins: [n % 5 === 0 ? 'agent' : 'builtin'],
    error: n === 7 ? 'Quota exceeded' : null,
    revision: n,
    ...extra,
  };
}

function indexOf(count: number): ExecutionIndex {
  const index = new ExecutionIndex();
  // Out of order on purpose: the initial load sorts once.
  for (let n = count; n >= 1; n--) index.put(row(n), 0);
  index.loaded();
  return index;
}

describe('the executions index', () => {
  it('pages newest first with a cursor, over every row exactly once', () => {
    const index = indexOf(1_000);
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const page = index.page(NO_FILTER, 70, before);
      expect(page.total).toBe(1_000);
      seen.push(...page.items.map((r) => r.execution_id));
      before = page.next;
    } while (before);
    expect(seen).toHaveLength(1_000);
    expect(seen[0]).toBe('x-001000');
    expect(seen[999]).toBe('x-000001');
    expect(new Set(seen).size).toBe(1_000);
  });

  it('filters by status, plan, plugin and text, and counts every match', () => {
    const index = indexOf(300);
    const filter = { statuses: new Set(['failed' as const]), plan: 'even', plugin: 'agent', text: null };
    const page = index.page(filter, 5);
    // multiples of 3, 2 and 5 up to 300: 30, 60, ..., 300
    expect(page.total).toBe(10);
    expect(page.items.map((r) => r.execution_id)).toEqual([
      'x-000300',
      'x-000270',
      'x-000240',
      'x-000210',
      'x-000180',
    ]);
    expect(index.page(filter, 5, page.next).items.map((r) => r.execution_id)).toEqual([
      'x-000150',
      'x-000120',
      'x-000090',
      'x-000060',
      'x-000030',
    ]);
    expect(index.page({ ...NO_FILTER, text: 'quota' }).items.map((r) => r.execution_id)).toEqual([
      'x-000007',
    ]);
  });

  it('keeps its order as rows change and arrive, and tells subscribers', () => {
    const index = indexOf(10);
    const changes: string[] = [];
    index.subscribe((change) => changes.push(change.execution_id));
    index.put(row(11), 0);
    index.put(row(3, { status: 'completed', revision: 20 }), 0);
    index.put(row(3, { status: 'running', revision: 15 }), 0); // older: ignored
    index.remove('x-000005', 21);
    const page = index.page(NO_FILTER, 100);
    expect(page.items.map((r) => r.execution_id)).toEqual([
      'x-000011',
      'x-000010',
      'x-000009',
      'x-000008',
      'x-000007',
      'x-000006',
      'x-000004',
      'x-000003',
      'x-000002',
      'x-000001',
    ]);
    expect(index.get('x-000003')?.status).toBe('completed');
    expect(changes).toEqual(['x-000011', 'x-000003', 'x-000005']);
    expect(index.changesSince(11).map((c) => c.execution_id)).toEqual(['x-000003', 'x-000005']);
    expect(index.revision).toBe(21);
  });

  it('answers a page of 100,000 rows in milliseconds', () => {
    const index = indexOf(100_000);
    const started = performance.now();
    const first = index.page(NO_FILTER, 50);
    const filtered = index.page(
      { statuses: new Set(['failed' as const]), plan: 'odd', plugin: null, text: 'x-09' },
      50,
    );
    const elapsed = performance.now() - started;
    expect(first.items).toHaveLength(50);
    expect(filtered.total).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(500);
  });
});
