import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrchestraClient } from '@orchestra/client';
import type { ExecutionEvent } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, ServiceProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

/**
 * Invariant 5 (docs/architecture.md, "Invariants"): a kill -9 of the orchestrator, or a restart
 * of nats-server, in the middle of a run loses nothing: the run finishes, every task's success is
 * counted once, and the stored results equal the ones recomputed from the log.
 */
const sleepTask = (task_id: string, ms: number, input: Record<string, unknown> = {}) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'sleep' },
  input_context: { ms, ...input },
});

function planFile(plan_id: string): string {
  const plan = {
    plan_id,
    phases: [
      {
        phase_id: 'fan-out',
        tasks: Array.from({ length: 8 }, (_, i) => sleepTask(`p${i}`, 300 + 100 * i, { n: i })),
      },
      {
        phase_id: 'chain',
        depends_on_phases: ['fan-out'],
        execution_mode: 'sequential',
        tasks: [
          sleepTask('c1', 300, { from: '${fan-out.p7.output.n}' }),
          sleepTask('c2', 300, { from: '${chain.c1.output.from}' }),
          sleepTask('c3', 300, { from: '${chain.c2.output.from}' }),
          sleepTask('c4', 300, { from: '${chain.c3.output.from}' }),
        ],
      },
    ],
  };
  const file = join(tmpdir(), `${plan_id}-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

const TOTAL_TASKS = 12;

describe('crashes in the middle of a run', () => {
  let server: NatsServerHandle;
  let client: OrchestraClient;
  const processes: ServiceProcess[] = [];
  const start = async (services: string) => {
    const service = await ServiceProcess.start(services, server.url);
    processes.push(service);
    return service;
  };

  beforeEach(async () => {
    server = await startNatsServer();
    client = await OrchestraClient.connect({ servers: [server.url], env: {} });
  });
  afterEach(async () => {
    for (const service of processes.splice(0)) await service.kill();
    await client?.close().catch(() => undefined);
    await server?.stop();
  });

  async function expectFinishedOnce(execution_id: string) {
    const results = await client.waitForResults(execution_id, 90_000);
    expect(results.status).toBe('completed');
    expect(results.summary).toEqual({
      total_tasks: TOTAL_TASKS,
      successful: TOTAL_TASKS,
      failed: 0,
      skipped: 0,
      timeout: 0,
    });
    const events = (await client.events(execution_id)).map((stored) => stored.event);
    const succeeded = events.filter(
      (event): event is Extract<ExecutionEvent, { type: 'TaskSucceeded' }> => event.type === 'TaskSucceeded',
    );
    expect(new Set(succeeded.map((event) => event.task_id)).size).toBe(TOTAL_TASKS);
    expect(succeeded).toHaveLength(TOTAL_TASKS);
    expect(events.filter((event) => event.type === 'ExecutionFinished')).toHaveLength(1);
    const chainEnd = results.phases[1]?.tasks[3]?.output as { from?: unknown } | undefined;
    expect(chainEnd?.from).toBe(7);
    const replay = await orchestra(['replay', execution_id, '--json'], { NATS_URL: server.url });
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout).matches).toBe(true);
  }

  const progressed = (execution_id: string, atLeast: number) =>
    waitFor(
      async () => {
        const events = await client.events(execution_id);
        return events.filter((stored) => stored.event.type === 'TaskSucceeded').length >= atLeast;
      },
      { timeoutMs: 30_000, what: `${atLeast} tasks of ${execution_id} to succeed` },
    );

  it('finishes the run after kill -9 of the orchestrator, counting every success once', async () => {
    await start('dispatcher,results');
    const first = await start('orchestrator');
    const submitted = await orchestra(['run', planFile('kill-orchestrator'), '--id', 'kill-1'], {
      NATS_URL: server.url,
    });
    expect(submitted.code).toBe(0);
    await progressed('kill-1', 3);
    await first.kill();
    await start('orchestrator');
    await expectFinishedOnce('kill-1');
  });

  it('finishes the run after nats-server is killed and restarted, losing nothing', async () => {
    await start('orchestrator,dispatcher,results');
    const submitted = await orchestra(['run', planFile('restart-server'), '--id', 'restart-1'], {
      NATS_URL: server.url,
    });
    expect(submitted.code).toBe(0);
    await progressed('restart-1', 3);
    await server.kill();
    await server.restart();
    await expectFinishedOnce('restart-1');
  });
});
