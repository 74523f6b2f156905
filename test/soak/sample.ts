import { readFileSync } from 'node:fs';

/** One sample of the soak run: every process's RSS and every store's size. */
export interface SoakSample {
  /** Minutes since the start. */
  minute: number;
  /** RSS in MiB, by process. */
  rss: Record<string, number>;
  /** Bytes stored, by stream (the buckets are streams too: KV_..., OBJ_...). */
  stores: Record<string, number>;
  executions: number;
}

/** Resident set size of a process in MiB (Linux /proc), 0 when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return 0;
  }
}

/** The samples as a markdown table (MiB for RSS and stores). */
export function soakTable(samples: readonly SoakSample[]): string {
  const first = samples[0];
  if (!first) return '';
  const processes = Object.keys(first.rss);
  const stores = Object.keys(first.stores);
  const head = [
    'minute',
    'executions',
    ...processes.map((p) => `${p} RSS MiB`),
    ...stores.map((s) => `${s} MiB`),
  ];
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const rows = samples.map((s) => [
    s.minute.toFixed(1),
    String(s.executions),
    ...processes.map((p) => (s.rss[p] ?? 0).toFixed(0)),
    ...stores.map((name) => mib(s.stores[name] ?? 0)),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** An SVG line chart of every process's RSS (left) and every store's size (right) over the run. */
export function soakSvg(samples: readonly SoakSample[]): string {
  const width = 900;
  const height = 320;
  const panel = (x0: number, title: string, series: Record<string, number[]>, unit: string): string => {
    const w = width / 2 - 60;
    const h = height - 80;
    const minutes = samples.map((s) => s.minute);
    const maxX = Math.max(1, ...minutes);
    const maxY = Math.max(1, ...Object.values(series).flat()) * 1.1;
    const x = (m: number) => x0 + 50 + (m / maxX) * w;
    const y = (v: number) => 30 + h - (v / maxY) * h;
    const lines = Object.entries(series).map(([name, values], i) => {
      const points = values.map((v, j) => `${x(minutes[j] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const colour = COLOURS[i % COLOURS.length];
      return (
        `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>` +
        `<text x="${x0 + 60}" y="${44 + i * 14}" font-size="11" fill="${colour}">${name}</text>`
      );
    });
    return (
      `<text x="${x0 + 50}" y="18" font-size="13">${title}</text>` +
      `<line x1="${x0 + 50}" y1="${30 + h}" x2="${x0 + 50 + w}" y2="${30 + h}" stroke="#999"/>` +
      `<line x1="${x0 + 50}" y1="30" x2="${x0 + 50}" y2="${30 + h}" stroke="#999"/>` +
      `<text x="${x0 + 44}" y="36" font-size="10" text-anchor="end">${maxY.toFixed(0)} ${unit}</text>` +
      `<text x="${x0 + 44}" y="${30 + h}" font-size="10" text-anchor="end">0</text>` +
      `<text x="${x0 + 50 + w}" y="${48 + h}" font-size="10" text-anchor="end">${maxX.toFixed(0)} min</text>` +
      lines.join('')
    );
  };
  const first = samples[0];
  const rss = Object.fromEntries(
    Object.keys(first?.rss ?? {}).map((p) => [p, samples.map((s) => s.rss[p] ?? 0)]),
  );
  const stores = Object.fromEntries(
    Object.keys(first?.stores ?? {}).map((name) => [
      name,
      samples.map((s) => (s.stores[name] ?? 0) / 1024 / 1024),
    ]),
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    '<title>Soak run: RSS of every process and bytes of every store over time</title>' +
    `<rect width="100%" height="100%" fill="white"/>` +
    panel(0, 'RSS of every process (MiB)', rss, 'MiB') +
    panel(width / 2, 'Bytes stored per stream and bucket (MiB)', stores, 'MiB') +
    '</svg>\n'
  );
}
