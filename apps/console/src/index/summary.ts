import { ExecutionResults, type ExecutionStatus, TaskResultStatus } from '@orchestra/contracts';
import { z } from 'zod';
import type { ExecutionSummary } from '../model/api-types.js';

/**
 * What the list reads of an execution_results value, checked field by field. Other fields are
 * not looked at, so values written by an older or newer results service still list.
 */
export const IndexedResults = ExecutionResults.pick({
  execution_id: true,
  plan_id: true,
  status: true,
  duration_ms: true,
  started_at: true,
  finished_at: true,
  summary: true,
  errors: true,
}).extend({
  phases: z.array(
    z.object({ tasks: z.array(z.object({ status: TaskResultStatus, plugin_used: z.string().nullable() })) }),
  ),
});
export type IndexedResults = z.infer<typeof IndexedResults>;

/** One row of the list from a stored execution_results: small, so 100,000 of them fit in memory. */
export function summarize(results: IndexedResults, revision: number): ExecutionSummary {
  const plugins = new Set<string>();
  let running = 0;
  for (const phase of results.phases) {
    for (const task of phase.tasks) {
      if (task.plugin_used) plugins.add(task.plugin_used);
      if (task.status === 'running') running += 1;
    }
  }
  const { summary } = results;
  return {
    execution_id: results.execution_id,
    plan_id: results.plan_id,
    status: results.status,
    started_at: epoch(results.started_at),
    finished_at: epoch(results.finished_at),
    duration_ms: results.duration_ms,
    total: summary.total_tasks,
    successful: summary.successful,
    failed: summary.failed,
    skipped: summary.skipped,
    timeout: summary.timeout,
    running,
    plugins: [...plugins].sort(),
    error: results.errors[0]?.slice(0, 300) ?? null,
    revision,
  };
}

function epoch(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

export interface ListFilter {
  statuses: ReadonlySet<ExecutionStatus>;
  plan: string | null;
  plugin: string | null;
  /** Lower-case text looked for in the id, the plan id and the first error. */
  text: string | null;
}

export const NO_FILTER: ListFilter = { statuses: new Set(), plan: null, plugin: null, text: null };

export function matches(row: ExecutionSummary, filter: ListFilter): boolean {
  if (filter.statuses.size > 0 && !filter.statuses.has(row.status)) return false;
  if (filter.plan !== null && row.plan_id !== filter.plan) return false;
  if (filter.plugin !== null && !row.plugins.includes(filter.plugin)) return false;
  if (filter.text !== null) {
    const { text } = filter;
    return (
      row.execution_id.toLowerCase().includes(text) ||
      (row.plan_id?.toLowerCase().includes(text) ?? false) ||
      (row.error?.toLowerCase().includes(text) ?? false)
    );
  }
  return true;
}
