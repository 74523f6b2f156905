/// <reference lib="dom" />
// page.evaluate callbacks run in the browser: DOM types for them.
import { ConsoleHarness } from './harness.js';
import { MARKUP, markupPlan, partialPlan, retryThenFallbackPlan, slowPlan } from './plans.js';

/** The console in Debian's chromium against `orchestra up --console` and a real nats-server. */
describe('the web console in a browser', () => {
  const system = new ConsoleHarness();

  beforeAll(() => system.start());
  afterAll(() => system.stop());
  afterEach(() => {
    expect(system.incidents).toEqual([]);
  });

  it('shows a new execution in the list and turns it completed without a reload', async () => {
    const page = await system.page('/');
    await page.waitForSelector('text=No executions yet');
    await system.screenshot(page, 'executions-empty');
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    await system.client.execute(slowPlan('live-list', 3000), 'live-1');
    const row = '[data-execution-id="live-1"] .badge';
    await page.waitForSelector(row);
    expect(['pending', 'running']).toContain(await page.locator(row).getAttribute('data-status'));
    await system.screenshot(page, 'executions-running');
    await system.waitForStatus(page, row, 'completed');
    expect(await page.locator('[data-execution-id="live-1"] .progress-label').textContent()).toBe('2/2');
    // Still the document loaded at the start: the row changed through the change stream.
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
    await system.screenshot(page, 'executions-list');
    await page.close();
  });

  it("draws a partial execution's graph with every task in its status", async () => {
    await system.client.execute(partialPlan, 'partial-1');
    expect((await system.finalResults('partial-1')).status).toBe('partial');
    const page = await system.page('/executions/partial-1');
    await system.waitForStatus(page, '.execution-title .badge', 'partial');
    // The layout is computed in a Web Worker: the nodes come a moment after the status.
    await page.locator('.task-node').nth(3).waitFor();
    const statuses = await page
      .locator('.task-node')
      .evaluateAll((nodes) =>
        nodes.map((node) => [node.getAttribute('data-task-id'), node.getAttribute('data-status')]),
      );
    expect(Object.fromEntries(statuses)).toEqual({
      'ok-first': 'success',
      fails: 'skipped',
      'uses-failed': 'skipped',
      'ok-last': 'success',
    });
    expect(await page.locator('.phase-frame').count()).toBe(2);
    expect(await page.locator('path.edge-reference').count()).toBe(2);
    expect(await page.locator('path.edge-phase').count()).toBe(1);
    await system.screenshot(page, 'execution-graph-partial');
    await page.close();
  });

  it('re-runs a partial execution from the page: what succeeded is reused, the rest runs again', async () => {
    const page = await system.page('/executions/partial-1?task=fails');
    await system.waitForStatus(page, '.execution-title .badge', 'partial');
    await page.getByRole('button', { name: 'Re-run from failure' }).click();
    await page.getByText(/orchestra rerun partial-1$/).waitFor();
    await page.getByRole('button', { name: 'Re-run', exact: true }).click();
    await page.waitForURL(/\/executions\/(?!partial-1)/);
    expect(await page.getByTestId('rerun-of').textContent()).toBe('partial-1');
    await system.waitForStatus(page, '.execution-title .badge', 'partial');
    await page.locator('.task-node').nth(3).waitFor();
    const reused = page.locator('.task-node[data-task-id="ok-first"]');
    expect(await reused.getAttribute('data-status')).toBe('success');
    expect(await reused.textContent()).toContain('reused from partial-1');
    expect(await page.locator('.task-node[data-task-id="fails"]').getAttribute('data-status')).toBe(
      'skipped',
    );
    await page.locator('.task-node[data-task-id="ok-first"]').click();
    await page.getByTestId('reused-from').waitFor();
    await system.screenshot(page, 'execution-rerun');
    await page.close();
  });

  it('shows three bars for a task retried and then sent to its fallback, and the wait between', async () => {
    await system.client.execute(retryThenFallbackPlan, 'fallback-1');
    await system.finalResults('fallback-1');
    const page = await system.page('/executions/fallback-1?tab=timeline&task=flaky');
    await system.waitForStatus(page, '.execution-title .badge', 'completed');
    const bars = page.locator('.timeline-task[data-task-id="flaky"] .attempt-bar');
    await bars.nth(2).waitFor();
    const attempts = await bars.evaluateAll((nodes) =>
      nodes.map(
        (node) =>
          `${node.getAttribute('data-attempt')} ${node.getAttribute('data-kind')} ${node.getAttribute('data-outcome')}`,
      ),
    );
    expect(attempts).toEqual(['1 first failed', '2 retry failed', '3 fallback succeeded']);
    expect(await page.locator('.timeline-task[data-task-id="flaky"] .wait-backoff').count()).toBe(1);
    expect(await page.locator('[data-testid="task-panel"] .attempt').count()).toBe(3);
    // The replay check: results recomputed with the fold, and the records' signed hash chain.
    const replay = page.locator('[data-testid="replay-check"][data-matches="true"][data-chain="true"]');
    await replay.click();
    await page
      .getByTestId('replay-detail')
      .getByText(/signatures by a trusted key, up to the execution/)
      .waitFor();
    await replay.click();
    await system.screenshot(page, 'execution-timeline');
    await page.goto(`${system.baseUrl}/executions/fallback-1?tab=history`);
    await page.locator('.history-row[data-type="TaskRetryScheduled"]').click();
    await page.locator('.history-detail .json-key', { hasText: 'next_attempt_number' }).waitFor();
    await system.screenshot(page, 'execution-history');
    await page.close();
  });

  it('cancels a running execution from the page and shows the CLI equivalent', async () => {
    await system.client.execute(slowPlan('to-cancel', 30_000), 'cancel-1');
    const page = await system.page('/executions/cancel-1');
    await system.waitForStatus(page, '.execution-title .badge', 'running');
    await page.getByRole('button', { name: 'Cancel execution' }).click();
    await page.getByLabel('Reason').fill('not needed any more');
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.waitForSelector("text=orchestra cancel cancel-1 --reason 'not needed any more'");
    await system.waitForStatus(page, '.execution-title .badge', 'cancelled');
    expect((await system.finalResults('cancel-1')).status).toBe('cancelled');
    await system.screenshot(page, 'execution-cancelled');
    await page.close();
  });

  it('checks a pasted plan as it is typed, shows each problem with its path, then submits it', async () => {
    const page = await system.page('/submit');
    const editor = page.getByTestId('plan-editor');
    await editor.fill(
      'plan_id: pasted\nphases:\n  - phase_id: only\n    tasks:\n      - task_id: t\n        retries: 99\n',
    );
    const issues = page.getByTestId('plan-issues');
    await issues.locator('code', { hasText: 'phases[0].tasks[0].retries' }).waitFor();
    await issues.locator('code', { hasText: 'phases[0].tasks[0].assigned_plugin' }).waitFor();
    expect(await page.getByRole('button', { name: 'Submit' }).isDisabled()).toBe(true);
    await system.screenshot(page, 'submit-invalid');
    await page.getByLabel('Load an example').selectOption('hello.yaml');
    await page.getByTestId('plan-valid').waitFor();
    await page.getByPlaceholder('generated when empty').fill('pasted-1');
    await page.getByText('run plan.yaml --id pasted-1').waitFor();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(`${system.baseUrl}/executions/pasted-1`);
    await system.waitForStatus(page, '.execution-title .badge', 'completed');
    await page.close();
  });

  it('lists the live workers of each plugin with what they have done', async () => {
    const page = await system.page('/plugins');
    const builtin = page.locator('tr[data-plugin="builtin"]');
    await builtin.waitFor();
    expect(Number(await builtin.getByTestId('worker-count').textContent())).toBeGreaterThanOrEqual(1);
    // The executions of the tests before ran on it.
    expect(Number((await builtin.locator('td').nth(5).textContent())?.replace(/\D/g, ''))).toBeGreaterThan(0);
    await page.getByText('npx orchestra plugins').waitFor();
    await builtin.click();
    await page.locator('tr.worker-row').first().waitFor();
    await system.screenshot(page, 'plugins');
    await page.close();
  });

  it('shows markup from a plan and a plugin output as text, and runs none of it', async () => {
    await system.client.execute(markupPlan, 'markup-1');
    await system.finalResults('markup-1');
    const page = await system.page('/executions/markup-1?task=xss', () => {
      (window as unknown as { ran: string[] }).ran = [];
      window.alert = (message?: unknown) =>
        (window as unknown as { ran: string[] }).ran.push(String(message));
    });
    await system.waitForStatus(page, '.execution-title .badge', 'completed');
    await page.locator('[data-testid="task-panel"] .json-view').first().waitFor();
    const panel = (await page.locator('[data-testid="task-panel"]').textContent()) ?? '';
    expect(panel).toContain(MARKUP);
    expect(panel).toContain('<script>alert(2)</script>');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#root script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { ran: string[] }).ran)).toEqual([]);
    await system.screenshot(page, 'execution-markup');
    await page.close();
  });
});
