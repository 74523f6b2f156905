import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { ServiceProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

/**
 * Stopping never hangs (README, "Stopping"): with its NATS server gone, every service process
 * exits within 10 s of SIGTERM; and a dispatcher that stops hands its running attempts back, so
 * another dispatcher runs them at once instead of after their deadline.
 */
const sleepPlan = (plan_id: string, tasks: number, ms: number) => ({
  plan_id,
  phases: [
    {
      phase_id: 'p',
      tasks: Array.from({ length: tasks }, (_, i) => ({
        task_id: `t${i}`,
        assigned_plugin: 'builtin',
        entry_point: { type: 'function', value: 'sleep' },
        input_context: { ms },
        timeout_ms: 120_000,
      })),
    },
  ],
});

const EXIT_BOUND_MS = 10_000;

describe('stopping', () => {
  let server: NatsServerHandle;
  const processes: ServiceProcess[] = [];
  const start = async (services: string) => {
    const service = await ServiceProcess.start(services, server.url, { LOG_LEVEL: 'info' });
    processes.push(service);
    return service;
  };

  beforeEach(async () => {
    server = await startNatsServer();
  });

  afterEach(async () => {
    for (const service of processes.splice(0)) await service.kill();
    await server.stop();
  });

  /** SIGTERM, then the time until the process has exited. */
  const timeToExit = async (service: ServiceProcess) => {
    const sent = Date.now();
    await service.stop();
    return Date.now() - sent;
  };

  for (const services of ['orchestrator', 'dispatcher', 'results', 'orchestrator,dispatcher,results']) {
    it(`${services}: exits within 10 s of SIGTERM while NATS is unreachable, in the middle of work`, async () => {
      const service = await start(services);
      const helpers = services.includes(',')
        ? []
        : await Promise.all(
            ['orchestrator', 'dispatcher', 'results']
              .filter((other) => other !== services)
              .map((other) => start(other)),
          );
      const client = await OrchestraClient.connect({ servers: [server.url], env: {} });
      const { execution_id } = await client.execute(sleepPlan('stop-under-outage', 20, 60_000));
      // Work in flight in every service: attempts running, events being folded.
      await waitFor(async () => (await client.events(execution_id)).length > 20, {
        timeoutMs: 30_000,
        what: 'the attempts to be dispatched',
      });
      await client.close();
      await server.kill();
      const took = await timeToExit(service);
      expect(took).toBeLessThan(EXIT_BOUND_MS);
      expect(service.logs()).toContain('stopped');
      for (const helper of helpers) expect(await timeToExit(helper)).toBeLessThan(EXIT_BOUND_MS);
    });
  }

  it('a dispatcher that stops hands its running attempts back: another one runs them at once', async () => {
    await start('orchestrator,results');
    const first = await start('dispatcher');
    const client = await OrchestraClient.connect({ servers: [server.url], env: {} });
    // Each attempt takes 4 s and may take 120 s: without the hand-back they would wait for the
    // command's ack wait (10 s) after the first dispatcher stops.
    const { execution_id } = await client.execute(sleepPlan('stop-hands-back', 4, 4_000));
    await waitFor(
      async () =>
        (await client.events(execution_id)).filter((e) => e.event.type === 'TaskDispatched').length === 4,
      { timeoutMs: 20_000, what: 'four attempts dispatched' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await start('dispatcher');
    const stoppedAt = Date.now();
    expect(await timeToExit(first)).toBeLessThan(EXIT_BOUND_MS);
    const results = await client.waitForResults(execution_id, 30_000);
    const finishedIn = Date.now() - stoppedAt;
    await client.close();
    expect(results.status).toBe('completed');
    // Handed back at once: 4 s of sleep on the second dispatcher, well before the 10 s ack wait.
    expect(finishedIn).toBeLessThan(9_000);
    // The same attempt ran again (at least once), no retry or timeout was needed.
    for (const task of results.phases[0]?.tasks ?? []) expect(task.attempt_number).toBe(1);
  });
});
