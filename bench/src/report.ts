import { round } from './stats.js';

/** One target (of issue 13, or of issue 6 where 13 sets none), checked against this run. */
export interface TargetCheck {
  issue: number;
  scenario: string;
  target: string;
  /** What is compared, in words. */
  metric: string;
  measured: number | null;
  unit: string;
  met: boolean | null;
  /** measured / bound (for an upper bound: how many times over; for a lower bound: the share reached). */
  of_target: number | null;
  /** The bound, when it comes from this run (the limit's messages + 2). */
  bound: number;
  /** Why `met` is null, or how the measure is taken. */
  note?: string;
}

type CheckArgs = [
  scenario: string,
  target: string,
  metric: string,
  measured: number | null | undefined,
  /** null or undefined when this run could not set it (the limit's figure missing). */
  bound: number | null | undefined,
  unit: string,
  issue?: number,
];

function check(
  lower: boolean,
  ...[scenario, target, metric, measured, bound, unit, issue = 13]: CheckArgs
): TargetCheck {
  const value = measured ?? null;
  const known = value !== null && bound !== null && bound !== undefined && Number.isFinite(bound);
  return {
    issue,
    scenario,
    target,
    metric,
    measured: value,
    unit,
    met: known ? (lower ? value >= bound : value <= bound) : null,
    of_target: known && bound !== 0 ? round(value / bound, 3) : null,
    bound: bound ?? Number.NaN,
  };
}

/** A lower bound: met when measured >= bound (null when either is unknown). */
export const atLeast = (...args: CheckArgs) => check(true, ...args);

/** An upper bound: met when measured <= bound (null when either is unknown). */
export const atMost = (...args: CheckArgs) => check(false, ...args);

/**
 * A row of the printed table: a figure for the limit, the batched loop, the peer and Orchestra,
 * and Orchestra's over each of the others.
 */
export interface Row {
  scenario: string;
  metric: string;
  limit: number | string | null;
  batched: number | string | null;
  peer: number | string | null;
  orchestra: number | string | null;
  vs_limit: number | null;
  vs_batched: number | null;
  vs_peer: number | null;
}

function cell(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : String(round(value, 2));
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function renderRows(rows: Row[]): string {
  return table(
    [
      'scenario',
      'metric',
      'limit',
      'batched',
      'peer (BullMQ)',
      'Orchestra',
      'Orch/limit',
      'Orch/batched',
      'Orch/peer',
    ],
    rows.map((r) => [
      r.scenario,
      r.metric,
      cell(r.limit),
      cell(r.batched),
      cell(r.peer),
      cell(r.orchestra),
      cell(r.vs_limit),
      cell(r.vs_batched),
      cell(r.vs_peer),
    ]),
  );
}

export function renderTargets(checks: TargetCheck[]): string {
  return table(
    ['issue', 'scenario', 'target', 'measured', 'met', 'measured/target'],
    checks.map((c) => [
      String(c.issue),
      c.scenario,
      c.target,
      c.measured === null ? '-' : `${cell(c.measured)} ${c.unit}`,
      c.met === null ? `n/a${c.note ? ` (${c.note})` : ''}` : c.met ? 'yes' : 'NO',
      cell(c.of_target),
    ]),
  );
}
