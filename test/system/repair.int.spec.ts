import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { noopLogger, readEvents } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { MessageIds, Streams } from '@orchestra/contracts';
import { startDispatcher } from '@orchestra/dispatcher';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';
import { deleteByMsgId as deleteStoredMessage } from '../support/tamper.js';
import { waitFor } from '../support/wait.js';

/**
 * A stuck execution repaired through the bus: its dispatch (or retry timer) deleted from its
 * stream, nothing would ever move it; a RepairExecution publishes again what the log implies,
 * under new message ids, and the execution finishes with the right results.
 */
describe('repairing an execution whose dispatch or timer was lost', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let client: OrchestraClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start(['orchestrator', 'results']);
    client = await OrchestraClient.using(await system.connect());
    jsm = await jetstreamManager(system.client);
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
  });

  const deleteByMsgId = (stream: string, msgId: string) => deleteStoredMessage(jsm, stream, msgId);

  it('re-publishes a deleted dispatch, which a worker then runs to the end', async () => {
    const plan = {
      plan_id: 'lost-dispatch',
      phases: [
        {
          phase_id: 'p',
          tasks: [
            {
              task_id: 't',
              assigned_plugin: 'late',
              entry_point: { type: 'function', value: 'echo' },
              input_context: { v: 1 },
            },
          ],
        },
      ],
    };
    await system.execute(plan, 'lost-1');
    await waitFor(
      async () => (await readEvents(jsm, 'lost-1')).events.some((e) => e.event.type === 'TaskDispatched'),
      {
        what: 'the dispatch',
      },
    );
    await waitFor(() => deleteByMsgId(Streams.tasks, MessageIds.dispatch('lost-1', 't', 1)), {
      what: 'the dispatch to delete',
    });

    const reply = await client.request('repair', {
      execution_id: 'lost-1',
      reason: 'dispatch lost',
      tasks: ['t'],
    });
    expect(reply).toEqual({ execution_id: 'lost-1', accepted: true });
    const late = await startDispatcher({
      connection: await system.connect(),
      logger: noopLogger,
      plugins: [{ name: 'late', run: async (task) => task.input_context }],
      provision: false,
    });
    system.onStop(() => late.stop());
    const results = await system.finalResults('lost-1');
    expect(results.status).toBe('completed');
    expect(results.phases[0]?.tasks[0]).toMatchObject({
      status: 'success',
      output: { v: 1 },
      attempt_number: 1,
    });
    const types = (await readEvents(jsm, 'lost-1')).events.map((e) => e.event.type);
    expect(types).toContain('ExecutionRepaired');
  });

  it('re-publishes a deleted retry timer, so the retry runs', async () => {
    await system.startService('dispatcher');
    const plan = {
      plan_id: 'lost-timer',
      phases: [
        {
          phase_id: 'p',
          tasks: [
            {
              task_id: 'f',
              assigned_plugin: 'builtin',
              entry_point: { type: 'function', value: 'flaky' },
              input_context: { failures: 1 },
              retries: 1,
              backoff: { initial_ms: 3_000, multiplier: 1, max_ms: 3_000 },
            },
          ],
        },
      ],
    };
    await system.execute(plan, 'lost-2');
    await waitFor(
      async () => (await readEvents(jsm, 'lost-2')).events.some((e) => e.event.type === 'TaskRetryScheduled'),
      {
        what: 'the retry to be scheduled',
      },
    );
    await waitFor(() => deleteByMsgId(Streams.timers, MessageIds.retry('lost-2', 'f', 2)), {
      what: 'the retry timer to delete',
    });
    await client.request('repair', { execution_id: 'lost-2', reason: 'timer lost' });
    const results = await system.finalResults('lost-2', 20_000);
    expect(results.phases[0]?.tasks[0]).toMatchObject({ status: 'success', attempt_number: 2 });
  });

  it('refuses to repair an execution that is unknown or has ended', async () => {
    await expect(client.request('repair', { execution_id: 'nobody' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(client.request('repair', { execution_id: 'lost-1' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: 'execution lost-1 is not running (completed): nothing to repair',
    });
  });
});
