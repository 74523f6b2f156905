import { join } from 'node:path';
import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, SCREENSHOTS } from '../support/browser.js';
import { ServiceProcess } from '../support/cli.js';

/**
 * The real system for browser tests: a nats-server of the test's own, `orchestra up --console`
 * as a child process (the services and the console it serves), a client to submit plans on the
 * bus, and Debian's chromium driven by playwright-core.
 */
export class ConsoleHarness {
  server!: NatsServerHandle;
  up!: ServiceProcess;
  client!: OrchestraClient;
  browser!: Browser;
  baseUrl!: string;
  /** Alerts, confirms and uncaught errors of every page: a test that saw one fails. */
  readonly incidents: string[] = [];

  async start(): Promise<this> {
    this.server = await startNatsServer();
    this.up = await ServiceProcess.start('orchestrator,dispatcher,results', this.server.url, {}, [
      '--console',
      '--console-port',
      '0',
    ]);
    const printed = /orchestra console: (http:\/\/\S+)/.exec(this.up.logs());
    if (!printed) throw new Error(`orchestra up --console printed no address: ${this.up.logs()}`);
    this.baseUrl = (printed[1] as string).replace(/\/$/, '');
    this.client = await OrchestraClient.connect({ servers: [this.server.url] });
    this.browser = await launchChromium();
    return this;
  }

  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    await this.client?.close().catch(() => undefined);
    await this.up?.stop();
    await this.server?.stop();
  }

  async page(path: string, init?: () => void): Promise<Page> {
    const page = await this.browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('dialog', (dialog) => {
      this.incidents.push(`dialog: ${dialog.type()} ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => this.incidents.push(`page error: ${error.message}`));
    // A Content-Security-Policy violation, a failed request: the page must have none.
    page.on('console', (message) => {
      if (message.type() === 'error') this.incidents.push(`console error: ${message.text()}`);
    });
    if (init) await page.addInitScript(init);
    await page.goto(`${this.baseUrl}${path}`);
    return page;
  }

  async screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  }

  /** The data-status of the first element matching `selector`, once it is `status`. */
  async waitForStatus(page: Page, selector: string, status: string, timeoutMs = 30_000): Promise<void> {
    await page.waitForSelector(`${selector}[data-status="${status}"]`, { timeout: timeoutMs });
  }

  async finalResults(executionId: string) {
    return this.client.waitForResults(executionId, 60_000);
  }
}
