import { niceScale, type Panel, renderPanel, renderSvg, short, sweepPanels } from './chart.js';
import { boundedCheck, type SweepSummary } from './growth.js';

const point = (
  size: number,
  rss: Record<string, number>,
  snapshots?: SweepSummary['snapshots'],
): SweepSummary => ({
  size,
  tasks_per_s: 1000,
  msgs_in_per_task: 4,
  msgs_out_per_task: 4,
  cpu_ms_per_task: null,
  rss_mb: rss,
  server_mem_mb: null,
  jetstream_storage_mb: null,
  timed_out: false,
  ...(snapshots ? { snapshots } : {}),
});

/** Ten snapshots of a run of `size` executions, each process's RSS given by `mb(fraction done)`. */
const run = (size: number, mb: (done: number) => number) =>
  Array.from({ length: 10 }, (_, i) => {
    const done = ((i + 1) * size) / 10;
    const value = mb((i + 1) / 10);
    return {
      executions_done: done,
      seconds: i,
      tasks_per_s: 1000,
      rss_mb: { orchestrator: value, dispatcher: 140, results: value, 'nats-server': 30 },
      server: null,
    };
  });

describe('bounded memory (issue 13: 100,000 executions)', () => {
  it('is met when every process stays within 10 % over the second half of the largest point', () => {
    const check = boundedCheck([
      point(10_000, {}),
      point(
        100_000,
        {},
        run(100_000, (f) => 200 + 10 * f),
      ),
    ]);
    expect(check.met).toBe(true);
    expect(check.measured).toBeCloseTo(2.4, 1); // 205 -> 210 MB
  });

  it('is not met when a process keeps growing', () => {
    const check = boundedCheck([
      point(
        100_000,
        {},
        run(100_000, (f) => 100 + 400 * f),
      ),
    ]);
    expect(check.met).toBe(false);
    expect(check.measured).toBeCloseTo(66.7, 1); // 300 -> 500 MB
  });

  it('has no verdict below 100,000 executions or for a run that timed out', () => {
    expect(
      boundedCheck([
        point(
          10_000,
          {},
          run(10_000, () => 200),
        ),
      ]).met,
    ).toBeNull();
    const timedOut = {
      ...point(
        100_000,
        {},
        run(100_000, () => 200),
      ),
      timed_out: true,
    };
    expect(boundedCheck([timedOut]).met).toBeNull();
    expect(boundedCheck([]).met).toBeNull();
  });
});

describe('sweep chart', () => {
  it('rounds an axis up to a whole number of round steps', () => {
    expect(niceScale(0)).toEqual({ top: 1, step: 0.2 });
    expect(niceScale(93)).toEqual({ top: 100, step: 20 });
    expect(niceScale(1234)).toEqual({ top: 1250, step: 250 });
    expect(short(20_000)).toBe('20k');
    expect(short(1_500_000)).toBe('1.5M');
    expect(short(0.125)).toBe('0.13');
  });

  it('places points inside the plot area, smallest size on the left, and escapes the text', () => {
    const panel: Panel = {
      title: 'W <wide> & more',
      xLabel: 'tasks',
      yLabel: 'tasks/s',
      logX: true,
      series: [
        {
          name: 'a',
          color: '#000',
          points: [
            [1_000, 10],
            [10_000, 50],
            [100_000, 100],
          ],
        },
      ],
    };
    const svg = renderPanel(panel, 0, 0);
    expect(svg).toContain('W &lt;wide&gt; &amp; more');
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(circles).toHaveLength(3);
    const [first, middle, last] = circles as [number[], number[], number[]];
    // Logarithmic x: 10,000 half-way between 1,000 and 100,000; higher values drawn higher (smaller y).
    expect(middle[0]).toBeCloseTo(((first[0] ?? 0) + (last[0] ?? 0)) / 2, 0);
    expect(first[1]).toBeGreaterThan(middle[1] ?? 0);
    expect(last[1]).toBeLessThan(middle[1] ?? 0);
    const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" class="frame"/.exec(
      svg,
    );
    const [x, y, w, h] = (frame?.slice(1) ?? []).map(Number) as [number, number, number, number];
    for (const [cx = 0, cy = 0] of circles) {
      expect(cx).toBeGreaterThanOrEqual(x);
      expect(cx).toBeLessThanOrEqual(x + w);
      expect(cy).toBeGreaterThanOrEqual(y);
      expect(cy).toBeLessThanOrEqual(y + h);
    }
  });

  it('draws the seven panels of a sweep in one SVG document', () => {
    const rss = { orchestrator: 200, dispatcher: 140, results: 150, 'nats-server': 30 };
    const summary = {
      W: [point(1_000, rss), point(2_000, rss)],
      C: [{ ...point(10, rss), step_p50_ms: 2, step_p99_ms: 9, limit_step_p50_ms: 0.6 }],
      M: [
        point(100, rss),
        point(
          100_000,
          rss,
          run(100_000, () => 200),
        ),
      ],
    };
    const svg = renderSvg(sweepPanels(summary, { summary, label: 'again' }), 'title');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/class="frame"/g)).toHaveLength(7);
    expect(svg).toContain('nats-server RSS (again)');
    expect(svg).toContain('M 100k: RSS as executions finish');
    expect(svg).not.toContain('NaN');
  });
});
