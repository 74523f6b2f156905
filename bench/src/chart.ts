/**
 * Draws a sweep report (npm run bench -- --sweep) as one SVG of small line charts: throughput
 * and step time against size, and every process's memory at each point and during the largest
 * M point. No dependency: the SVG is written by hand.
 *
 *   node bench/dist/chart.js [bench-sweep.json] [docs/images/bench-sweep.svg] [other-sweep.json label]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { largestOf, PROCESSES, type SweepSummary } from './growth.js';

export interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** A logarithmic x axis, ticked at the points' x values (the sweep's sizes). */
  logX: boolean;
  series: Series[];
}

const PANEL_W = 460;
const PANEL_H = 280;
const MARGIN = { left: 62, right: 16, top: 48, bottom: 44 };
const COLORS = {
  orchestra: '#1f6feb',
  limit: '#8b949e',
  p99: '#d97706',
  orchestrator: '#1f6feb',
  dispatcher: '#2da44e',
  results: '#8250df',
  'nats-server': '#d97706',
} as const;

export const short = (x: number): string =>
  x >= 1_000_000 ? `${x / 1_000_000}M` : x >= 1_000 ? `${x / 1_000}k` : `${Math.round(x * 100) / 100}`;

const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round upper bound for a y axis and its step: 0, step, 2 step... covering `max`. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}

/** One panel at (x0, y0): axes, ticks, a polyline and dots per series, a legend. */
export function renderPanel(panel: Panel, x0: number, y0: number): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const xs = [...new Set(panel.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y));
  const out: string[] = [
    `<text x="${x0 + PANEL_W / 2}" y="${y0 + 18}" class="title">${xmlText(panel.title)}</text>`,
  ];
  if (xs.length === 0) {
    out.push(`<text x="${left + w / 2}" y="${top + h / 2}" class="axis">no data</text>`);
    return out.join('\n');
  }
  // A linear axis starts at 0; a logarithmic one at the smallest size.
  const [xMin, xMax] = [panel.logX ? (xs[0] ?? 1) : 0, xs[xs.length - 1] ?? 1];
  const f = (x: number) => (panel.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const span = f(xMax) - f(xMin) || 1;
  const px = (x: number) => left + (xs.length === 1 ? w / 2 : ((f(x) - f(xMin)) / span) * w);
  const { top: yTop, step } = niceScale(Math.max(0, ...ys));
  const py = (y: number) => top + h - (y / yTop) * h;
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" class="frame"/>`);
  for (let y = 0; y <= yTop + step / 2; y += step) {
    out.push(`<line x1="${left}" x2="${left + w}" y1="${py(y)}" y2="${py(y)}" class="grid"/>`);
    out.push(`<text x="${left - 6}" y="${py(y) + 4}" class="ytick">${short(y)}</text>`);
  }
  const xTicks = panel.logX ? xs : linearTicks(xMin, xMax);
  for (const x of xTicks) out.push(`<text x="${px(x)}" y="${top + h + 16}" class="xtick">${short(x)}</text>`);
  out.push(`<text x="${left + w / 2}" y="${top + h + 34}" class="axis">${xmlText(panel.xLabel)}</text>`);
  out.push(
    `<text x="${x0 + 14}" y="${top + h / 2}" class="axis" transform="rotate(-90 ${x0 + 14} ${top + h / 2})">${xmlText(panel.yLabel)}</text>`,
  );
  for (const s of panel.series) {
    const points = s.points.map(([x, y]) => [px(x).toFixed(1), py(y).toFixed(1)] as const);
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    out.push(
      `<polyline points="${points.map((p) => p.join(',')).join(' ')}" stroke="${s.color}"${dash} class="line"/>`,
    );
    for (const [cx, cy] of points) out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
  }
  // The legend in a row between the title and the plot, clear of the lines.
  let lx = left;
  for (const s of panel.series) {
    const ly = y0 + 36;
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}"${dash} class="line"/>`,
    );
    out.push(`<text x="${lx + 22}" y="${ly}" class="legend">${xmlText(s.name)}</text>`);
    lx += 34 + s.name.length * 5.6;
  }
  return out.join('\n');
}

function linearTicks(min: number, max: number): number[] {
  const { step } = niceScale(max - min);
  const ticks: number[] = [];
  for (let x = Math.ceil(min / step) * step; x <= max + step / 1000; x += step) ticks.push(x);
  return ticks;
}

/** The panels as a grid of `columns`, in one standalone SVG document. */
export function renderSvg(panels: Panel[], title: string, columns = 2): string {
  const rows = Math.ceil(panels.length / columns);
  const width = columns * PANEL_W;
  const height = rows * PANEL_H + 30;
  const body = panels.map((p, i) =>
    renderPanel(p, (i % columns) * PANEL_W, 30 + Math.floor(i / columns) * PANEL_H),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<style>
.title { font-size: 13px; font-weight: bold; text-anchor: middle; fill: #24292f; }
.axis { font-size: 11px; text-anchor: middle; fill: #57606a; }
.xtick { font-size: 10px; text-anchor: middle; fill: #57606a; }
.ytick { font-size: 10px; text-anchor: end; fill: #57606a; }
.legend { font-size: 10px; fill: #24292f; }
.frame { fill: #ffffff; stroke: #d0d7de; }
.grid { stroke: #eaeef2; }
.line { fill: none; stroke-width: 2; }
</style>
<rect width="${width}" height="${height}" fill="#ffffff"/>
<text x="${width / 2}" y="20" class="title">${xmlText(title)}</text>
${body.join('\n')}
</svg>
`;
}

type Summary = Record<'W' | 'C' | 'M', SweepSummary[]>;

function line(
  name: string,
  color: string,
  points: SweepSummary[],
  y: (p: SweepSummary) => number | null | undefined,
) {
  const pts = points.flatMap((p): Array<[number, number]> => {
    const v = y(p);
    return v === null || v === undefined ? [] : [[p.size, v]];
  });
  return { name, color, points: pts };
}

const rssSeries = (points: SweepSummary[]) =>
  PROCESSES.map((name) => line(name, COLORS[name], points, (p) => p.rss_mb[name]));

/** The server's memory and JetStream's store as the largest M point's executions finish. */
function serverSeries(s: Summary, label: string, dashed: boolean): Series[] {
  const snaps = largestOf(s.M)?.snapshots ?? [];
  const at = (y: (x: (typeof snaps)[number]) => number | undefined) =>
    snaps.flatMap((x): Array<[number, number]> => {
      const v = y(x);
      return v === undefined ? [] : [[x.executions_done, v]];
    });
  return [
    {
      name: `nats-server RSS${label}`,
      color: COLORS['nats-server'],
      points: at((x) => x.rss_mb['nats-server']),
      dashed,
    },
    {
      name: `JetStream store${label}`,
      color: COLORS.limit,
      points: at((x) => x.server?.jetstream_storage_mb),
      dashed,
    },
  ];
}

/**
 * The sweep's seven panels; `compare` (another sweep, e.g. with a short events retention) adds
 * its server memory and store to the last one, dashed.
 */
export function sweepPanels(s: Summary, compare?: { summary: Summary; label: string }): Panel[] {
  const largest = largestOf(s.M);
  const snaps = largest?.snapshots ?? [];
  return [
    {
      title: 'W: one phase of N tasks',
      xLabel: 'tasks in the phase',
      yLabel: 'tasks/s',
      logX: true,
      series: [
        line('Orchestra', COLORS.orchestra, s.W, (p) => p.tasks_per_s),
        { ...line('limit (bare JetStream)', COLORS.limit, s.W, (p) => p.limit_tasks_per_s), dashed: true },
      ],
    },
    {
      title: 'W: RSS at the end',
      xLabel: 'tasks in the phase',
      yLabel: 'MB',
      logX: true,
      series: rssSeries(s.W),
    },
    {
      title: 'C: a chain of N steps',
      xLabel: 'steps',
      yLabel: 'ms per step',
      logX: true,
      series: [
        line('Orchestra p50', COLORS.orchestra, s.C, (p) => p.step_p50_ms),
        line('Orchestra p99', COLORS.p99, s.C, (p) => p.step_p99_ms),
        { ...line('limit p50', COLORS.limit, s.C, (p) => p.limit_step_p50_ms), dashed: true },
      ],
    },
    {
      title: 'M: N executions of 3 tasks',
      xLabel: 'executions',
      yLabel: 'tasks/s',
      logX: true,
      series: [line('Orchestra', COLORS.orchestra, s.M, (p) => p.tasks_per_s)],
    },
    { title: 'M: RSS at the end', xLabel: 'executions', yLabel: 'MB', logX: true, series: rssSeries(s.M) },
    {
      title: `M ${largest ? short(largest.size) : ''}: RSS as executions finish`,
      xLabel: 'executions final',
      yLabel: 'MB',
      logX: false,
      series: PROCESSES.map((name) => ({
        name,
        color: COLORS[name],
        points: snaps.map((x): [number, number] => [x.executions_done, x.rss_mb[name] ?? 0]),
      })),
    },
    {
      title: `M ${largest ? short(largest.size) : ''}: the server's memory and its store`,
      xLabel: 'executions final',
      yLabel: 'MB',
      logX: false,
      series: [
        ...serverSeries(s, '', false),
        ...(compare ? serverSeries(compare.summary, ` (${compare.label})`, true) : []),
      ],
    },
  ];
}

interface SweepReport {
  summary?: Summary;
  started_at?: string;
  machine?: { commit?: string; cpus?: number; loadavg_before?: number[] };
}

function readReport(file: string): SweepReport & { summary: Summary } {
  const report = JSON.parse(readFileSync(resolve(file), 'utf8')) as SweepReport;
  if (!report.summary) throw new Error(`${file} is not a sweep report (npm run bench -- --sweep)`);
  return { ...report, summary: report.summary };
}

/** node bench/dist/chart.js [report] [out.svg] [another report, its label] */
function main(argv: string[]): void {
  const [input = 'bench-sweep.json', out = 'docs/images/bench-sweep.svg', other, label = 'other run'] = argv;
  const report = readReport(input);
  const compare = other ? { summary: readReport(other).summary, label } : undefined;
  const m = report.machine ?? {};
  const title = `Orchestra: how cost grows (${report.started_at?.slice(0, 10) ?? '?'}, commit ${m.commit ?? '?'}, ${m.cpus ?? '?'} CPUs, load ${m.loadavg_before?.[0] ?? '?'} before)`;
  writeFileSync(resolve(out), renderSvg(sweepPanels(report.summary, compare), title));
  process.stdout.write(`${resolve(out)}\n`);
}

// Run as a script (node bench/dist/chart.js), not when imported.
if (process.argv[1]?.endsWith('chart.js')) main(process.argv.slice(2));
