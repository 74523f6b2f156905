import { atMost, type TargetCheck } from './report.js';
import type { MemorySnapshot } from './scenarios/many.js';
import { round } from './stats.js';

/** What the sweep keeps of each point, for its tables, its chart and the bounded-memory check. */

export const PROCESSES = ['orchestrator', 'dispatcher', 'results', 'nats-server'] as const;
/** Growth allowed over the second half of the largest M point for memory to count as bounded. */
export const BOUNDED_GROWTH_PCT = 10;

export interface SweepSummary {
  /** width (W), depth (C) or executions (M) */
  size: number;
  tasks_per_s: number | null;
  limit_tasks_per_s?: number | null;
  step_p50_ms?: number | null;
  step_p99_ms?: number | null;
  limit_step_p50_ms?: number | null;
  latency_p50_ms?: number | null;
  msgs_in_per_task: number | null;
  msgs_out_per_task: number | null;
  cpu_ms_per_task: Record<string, number> | null;
  /** RSS at the end of the point, MB. */
  rss_mb: Record<string, number | null>;
  server_mem_mb: number | null;
  jetstream_storage_mb: number | null;
  timed_out: boolean;
  snapshots?: MemorySnapshot[];
}

export const largestOf = (points: SweepSummary[]) =>
  points.reduce<SweepSummary | undefined>((a, p) => (a && a.size >= p.size ? a : p), undefined);

/**
 * Issue 13: 100,000 executions with every process's RSS bounded. Over the second half of the
 * largest M point (its snapshots at half and at all of the executions final), the RSS of each
 * process may grow by at most BOUNDED_GROWTH_PCT %; measured is the largest growth.
 */
export function boundedCheck(points: SweepSummary[]): TargetCheck {
  const largest = largestOf(points);
  const snaps = largest?.snapshots ?? [];
  const half = snaps[Math.ceil(snaps.length / 2) - 1];
  const end = snaps[snaps.length - 1];
  let growth: number | null = null;
  if (half && end && half !== end && largest && !largest.timed_out) {
    growth = Math.max(
      ...PROCESSES.map((name) => {
        const a = half.rss_mb[name] ?? 0;
        return a > 0 ? (100 * ((end.rss_mb[name] ?? 0) - a)) / a : 0;
      }),
    );
  }
  const check = atMost(
    'M',
    '100,000 executions: RSS bounded',
    `largest RSS growth of orchestrator, dispatcher, results, nats-server over the second half of ${largest?.size ?? '?'} executions`,
    growth === null ? null : round(growth, 1),
    BOUNDED_GROWTH_PCT,
    '%',
  );
  if ((largest?.size ?? 0) < 100_000)
    return { ...check, met: null, note: `largest point ${largest?.size ?? 0}` };
  return check;
}
