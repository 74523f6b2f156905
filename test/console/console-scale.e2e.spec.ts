/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: DOM types for them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from '../support/browser.js';
import { ConsoleHarness } from './harness.js';
import { widePlan } from './plans.js';

const TASKS = 2_000;
/** A main-thread task this long is a visible freeze (the page ignores input meanwhile). */
const FREEZE_MS = 500;

interface Measure {
  longest_task_ms: number;
  blocking_ms: number;
  longest_frame_ms: number;
  frames: number;
}

/**
 * An execution of 2,000 tasks: the page must draw it and scroll it without freezing. Long tasks
 * (main-thread work over 50 ms) are recorded by a PerformanceObserver installed before the page
 * loads; while scrolling, the gaps between animation frames are measured too.
 */
describe('the web console with an execution of 2,000 tasks', () => {
  const system = new ConsoleHarness();
  const report: Record<string, unknown> = { tasks: TASKS };

  beforeAll(() => system.start());
  afterAll(async () => {
    writeFileSync(join(SCREENSHOTS, 'performance.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`console with ${TASKS} tasks: ${JSON.stringify(report)}`);
    await system.stop();
  });

  it('draws the graph, the timeline and the history, and scrolls each without freezing', async () => {
    await system.client.execute(widePlan('wide-2000', TASKS), 'wide-1');
    expect((await system.finalResults('wide-1')).summary.successful).toBe(TASKS);

    const page = await system.page('/executions/wide-1', () => {
      const w = window as unknown as { longTasks: Array<{ start: number; duration: number }> };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          w.longTasks.push({ start: entry.startTime, duration: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.waitForSelector('.task-node[data-status="success"]', { timeout: 60_000 });
    report.first_graph_ms = await page.evaluate(() => Math.round(performance.now()));
    report.load = await longTasksSince(page, 0);
    expect(await page.locator('[data-testid="graph-viewport"]').getAttribute('data-tasks')).toBe(
      String(TASKS),
    );
    // Only what is in view is in the DOM.
    const drawn = await page.locator('.task-node').count();
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(TASKS);
    await system.screenshot(page, 'execution-2000-graph');

    report.graph_scroll = await scroll(page, '[data-testid="graph-viewport"]');
    // The grid's last row starts at the left: the last task is drawn once the view is there.
    await page.locator('[data-testid="graph-viewport"]').evaluate((element) => {
      element.scrollLeft = 0;
    });
    await page.waitForSelector('.task-node[data-task-id="t-1999"][data-status="success"]');
    await system.screenshot(page, 'execution-2000-graph-end');

    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.waitForSelector('.timeline-task[data-task-id="t-0000"] .attempt-bar');
    report.timeline_scroll = await scroll(page, '[data-testid="timeline-scroller"]');
    await page.waitForSelector('.timeline-task[data-task-id="t-1999"] .attempt-bar');
    await system.screenshot(page, 'execution-2000-timeline');

    await page.getByRole('tab', { name: /History/ }).click();
    await page.waitForSelector('.history-row');
    report.history_scroll = await scroll(page, '[data-testid="history-scroller"]');
    await page.waitForSelector('.history-row[data-type="ExecutionFinished"]');

    for (const key of ['graph_scroll', 'timeline_scroll', 'history_scroll']) {
      expect((report[key] as Measure).longest_task_ms).toBeLessThan(FREEZE_MS);
      expect((report[key] as Measure).longest_frame_ms).toBeLessThan(FREEZE_MS);
    }
    await page.close();
  });
});

/** Scrolls an element to its end in 40 steps, one per animation frame; measures what it cost. */
async function scroll(page: Page, selector: string): Promise<Measure> {
  const since = await page.evaluate(() => performance.now());
  const frames = await page.evaluate(async (target) => {
    const element = document.querySelector(target) as HTMLElement;
    const gaps: number[] = [];
    let last = performance.now();
    for (let step = 1; step <= 40; step++) {
      element.scrollTop = ((element.scrollHeight - element.clientHeight) * step) / 40;
      element.scrollLeft = ((element.scrollWidth - element.clientWidth) * step) / 40;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }
    // Let the last frames settle (long tasks are reported after they end).
    await new Promise((resolve) => setTimeout(resolve, 300));
    return gaps;
  }, selector);
  const tasks = await longTasksSince(page, since);
  return { ...tasks, longest_frame_ms: Math.round(Math.max(...frames)), frames: frames.length };
}

async function longTasksSince(
  page: Page,
  since: number,
): Promise<Omit<Measure, 'longest_frame_ms' | 'frames'>> {
  const tasks = await page.evaluate(
    (from) =>
      (window as unknown as { longTasks: Array<{ start: number; duration: number }> }).longTasks.filter(
        (t) => t.start >= from,
      ),
    since,
  );
  return {
    longest_task_ms: Math.round(Math.max(0, ...tasks.map((t) => t.duration))),
    // Total blocking time: what each long task held the thread past 50 ms.
    blocking_ms: Math.round(tasks.reduce((sum, t) => sum + Math.max(0, t.duration - 50), 0)),
  };
}
