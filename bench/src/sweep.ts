import { retentionFromEnv } from '@orchestra/bus';
import { BOUNDED_GROWTH_PCT, boundedCheck, largestOf, PROCESSES, type SweepSummary } from './growth.js';
import { type Context, type Errors, FULL, part, withNats, withSystem } from './harness.js';
import type { SweepPoints } from './options.js';
import { renderTargets } from './report.js';
import { limitChain, limitThroughput } from './scenarios/limit.js';
import { orchestraMany } from './scenarios/many.js';
import { orchestraChain, orchestraWide } from './scenarios/orchestra.js';
import { round } from './stats.js';

/**
 * How cost grows (issue 13): W over width, C over depth, M over executions of 3 tasks, each
 * point on a fresh system, with every process's memory at its end. W and C also run the limit
 * at each point, for the machine's own pace at that size. M streams its submissions with at
 * most `inFlight` executions not yet final, and takes memory snapshots at every tenth of the
 * executions: the largest point says whether memory stays bounded.
 */
const TASKS_EACH = 3;

type Rss = Record<string, { peak_mb: number; last_mb: number }>;
const lastRss = (rss: Rss | undefined) =>
  Object.fromEntries(PROCESSES.map((name) => [name, rss?.[name]?.last_mb ?? null]));

export async function runSweep(points: SweepPoints, inFlight: number, log: (line: string) => void) {
  const errors: Errors = {};
  const ctx = (budgetMs: number): Context => ({
    sizes: FULL,
    budgetMs: { W: budgetMs, C: budgetMs, M: budgetMs, R: budgetMs, S: budgetMs },
    redis: undefined,
    profileDir: undefined,
    log,
  });
  const summary: Record<'W' | 'C' | 'M', SweepSummary[]> = { W: [], C: [], M: [] };
  const detail: Record<string, unknown[]> = { W: [], C: [], M: [] };
  for (const width of points.W) {
    log(`sweep W ${width}`);
    const c = ctx(600_000);
    const limit = await part(c, errors, `W ${width} limit`, () =>
      withNats(width, (url) => limitThroughput(url, 1, width, 600_000)),
    );
    const o = await part(c, errors, `W ${width} orchestra`, () =>
      withSystem(c, 'W', {}, async (system) => ({
        ...(await orchestraWide(system, width, 600_000)),
        server_memory: await system.nats.memory().catch(() => null),
      })),
    );
    detail.W?.push({ width, limit, orchestra: o });
    summary.W.push({
      size: width,
      tasks_per_s: o?.tasks_per_s ?? null,
      limit_tasks_per_s: limit?.tasks_per_s ?? null,
      ...common(o),
    });
  }
  for (const depth of points.C) {
    log(`sweep C ${depth}`);
    const budget = Math.max(120_000, depth * 300);
    const c = ctx(budget);
    const limit = await part(c, errors, `C ${depth} limit`, () =>
      withNats(depth, (url) => limitChain(url, depth, budget)),
    );
    const o = await part(c, errors, `C ${depth} orchestra`, () =>
      withSystem(c, 'C', {}, async (system) => ({
        ...(await orchestraChain(system, depth, budget)),
        server_memory: await system.nats.memory().catch(() => null),
      })),
    );
    detail.C?.push({ depth, limit, orchestra: o });
    summary.C.push({
      size: depth,
      tasks_per_s: o && o.seconds > 0 ? round(depth / o.seconds, 1) : null,
      step_p50_ms: o?.step_seen_ms?.p50 ?? null,
      step_p99_ms: o?.step_seen_ms?.p99 ?? null,
      limit_step_p50_ms: limit?.step_ms?.p50 ?? null,
      ...common(o),
    });
  }
  for (const executions of points.M) {
    log(`sweep M ${executions} x ${TASKS_EACH} (at most ${inFlight} in flight)`);
    // 100 tasks/s at the least, 5 minutes at the least: a bound, not an expectation.
    const budget = Math.max(300_000, executions * TASKS_EACH * 10);
    const c = ctx(budget);
    const o = await part(c, errors, `M ${executions} orchestra`, () =>
      withSystem(c, 'M', {}, (system) =>
        orchestraMany(system, executions, TASKS_EACH, budget, { inFlight, snapshots: 10, log }),
      ),
    );
    detail.M?.push({ executions, orchestra: o });
    summary.M.push({
      size: executions,
      tasks_per_s: o?.tasks_per_s ?? null,
      latency_p50_ms: o?.execution_latency_ms?.p50 ?? null,
      ...common(o),
      snapshots: o?.snapshots ?? [],
    });
  }
  const targets = [boundedCheck(summary.M)];
  return {
    mode: 'sweep',
    setup: {
      points,
      tasks_each_in_M: TASKS_EACH,
      in_flight_in_M: inFlight,
      bounded_growth_pct: BOUNDED_GROWTH_PCT,
      // provisionAll reads it from this process's environment (ORCHESTRA_EVENTS_MAX_AGE...).
      retention: retentionFromEnv(),
      note: 'each point on a fresh nats-server and fresh services; RSS at the end of each point (VmRSS)',
    },
    summary,
    points: detail,
    errors,
    targets,
    text: `${sweepTables(summary)}\n\nTargets (issue 13)\n\n${renderTargets(targets)}`,
  };
}

interface Measured {
  timed_out: boolean;
  rss_mb: Rss;
  server: Record<string, number> | null;
  cpu_ms_per_task: Record<string, number>;
  server_memory: { mem_mb: number; jetstream_storage_mb: number } | null;
}

function common(o: Measured | null) {
  return {
    msgs_in_per_task: o?.server?.msgs_in_per_task ?? null,
    msgs_out_per_task: o?.server?.msgs_out_per_task ?? null,
    cpu_ms_per_task: o?.cpu_ms_per_task ?? null,
    rss_mb: lastRss(o?.rss_mb),
    server_mem_mb: o?.server_memory?.mem_mb ?? null,
    jetstream_storage_mb: o?.server_memory?.jetstream_storage_mb ?? null,
    timed_out: o?.timed_out ?? true,
  };
}

const n = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(x));

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Markdown tables of the sweep (pasted into docs/performance.md). */
export function sweepTables(s: Record<'W' | 'C' | 'M', SweepSummary[]>): string {
  const rss = (p: SweepSummary) => PROCESSES.map((name) => n(p.rss_mb[name])).join(' / ');
  const cpu = (p: SweepSummary) =>
    p.cpu_ms_per_task ? PROCESSES.map((name) => n(p.cpu_ms_per_task?.[name])).join(' / ') : '-';
  const msgs = (p: SweepSummary) => `${n(p.msgs_in_per_task)} / ${n(p.msgs_out_per_task)}`;
  const mem = (p: SweepSummary) => `${n(p.server_mem_mb)} / ${n(p.jetstream_storage_mb)}`;
  const flag = (p: SweepSummary) => (p.timed_out ? ' (timed out)' : '');
  const common = [
    'msgs in / out per task',
    'CPU ms per task: orch / disp / results / nats',
    'RSS MB at end: orch / disp / results / nats',
    'server mem / JetStream store MB',
  ];
  // Per scenario: the size's name, then two columns of its own.
  const own: Record<'W' | 'C' | 'M', [string, string, string, (p: SweepSummary) => [string, string]]> = {
    W: ['W width', 'tasks/s', 'limit tasks/s', (p) => [n(p.tasks_per_s), n(p.limit_tasks_per_s)]],
    C: [
      'C depth',
      'step p50 / p99 ms',
      'limit step p50 ms',
      (p) => [`${n(p.step_p50_ms)} / ${n(p.step_p99_ms)}`, n(p.limit_step_p50_ms)],
    ],
    M: ['M executions x 3', 'tasks/s', 'latency p50 ms', (p) => [n(p.tasks_per_s), n(p.latency_p50_ms)]],
  };
  const parts = (['W', 'C', 'M'] as const)
    .filter((key) => s[key].length > 0)
    .map((key) => {
      const [size, a, b, cells] = own[key];
      const rows = s[key].map((p) => [`${p.size}${flag(p)}`, ...cells(p), msgs(p), cpu(p), rss(p), mem(p)]);
      return table([size, a, b, ...common], rows);
    });
  const largest = largestOf(s.M);
  if (largest?.snapshots?.length)
    parts.push(
      table(
        [
          `M ${largest.size}: executions final`,
          's',
          'tasks/s (interval)',
          'RSS MB: orch / disp / results / nats',
          'server mem / JetStream store MB',
        ],
        largest.snapshots.map((x) => [
          String(x.executions_done),
          String(x.seconds),
          String(x.tasks_per_s),
          PROCESSES.map((name) => n(x.rss_mb[name])).join(' / '),
          `${n(x.server?.mem_mb)} / ${n(x.server?.jetstream_storage_mb)}`,
        ]),
      ),
    );
  return parts.join('\n\n');
}
