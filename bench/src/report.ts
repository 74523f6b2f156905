import { round } from './procs.js';

/** One target of issue 6, checked against this run. */
export interface TargetCheck {
  scenario: string;
  target: string;
  /** What is compared, in words. */
  metric: string;
  measured: number | null;
  unit: string;
  met: boolean | null;
  /** measured / bound (for an upper bound: how many times over; for a lower bound: the share reached). */
  of_target: number | null;
}

export function atLeast(
  scenario: string,
  target: string,
  metric: string,
  measured: number | null | undefined,
  bound: number,
  unit: string,
): TargetCheck {
  const value = measured ?? null;
  return {
    scenario,
    target,
    metric,
    measured: value,
    unit,
    met: value === null ? null : value >= bound,
    of_target: value === null ? null : round(value / bound, 3),
  };
}

export function atMost(
  scenario: string,
  target: string,
  metric: string,
  measured: number | null | undefined,
  bound: number,
  unit: string,
): TargetCheck {
  const value = measured ?? null;
  return {
    scenario,
    target,
    metric,
    measured: value,
    unit,
    met: value === null ? null : value <= bound,
    of_target: value === null ? null : round(value / bound, 3),
  };
}

/** A row of the printed table: a figure for the limit, the peer and Orchestra, and the ratios. */
export interface Row {
  scenario: string;
  metric: string;
  limit: number | string | null;
  peer: number | string | null;
  orchestra: number | string | null;
  vs_limit: number | null;
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
    ['scenario', 'metric', 'limit', 'peer (BullMQ)', 'Orchestra', 'Orch/limit', 'Orch/peer'],
    rows.map((r) => [
      r.scenario,
      r.metric,
      cell(r.limit),
      cell(r.peer),
      cell(r.orchestra),
      cell(r.vs_limit),
      cell(r.vs_peer),
    ]),
  );
}

export function renderTargets(checks: TargetCheck[]): string {
  return table(
    ['scenario', 'target', 'measured', 'met', 'measured/target'],
    checks.map((c) => [
      c.scenario,
      c.target,
      c.measured === null ? '-' : `${cell(c.measured)} ${c.unit}`,
      c.met === null ? 'n/a' : c.met ? 'yes' : 'NO',
      cell(c.of_target),
    ]),
  );
}
