import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, noopLogger, publishJson, type RunningService } from '@orchestra/bus';
import { type DispatchTask, MessageIds, Streams, Subjects } from '@orchestra/contracts';
import { useNatsServer } from '../../../test/support/nats-server.js';
import { waitFor } from '../../../test/support/wait.js';
import { startDispatcher } from './main.js';
import type { Plugin } from './plugin.js';

const server = useNatsServer();
let nc: NatsConnection;
let dispatcher: RunningService | undefined;

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'dispatcher-concurrency-test', env: {} });
});
afterAll(async () => {
  await dispatcher?.stop();
  await nc?.close();
});

/** A plugin that holds each attempt for a while and records how many ran at once. */
function countingPlugin(holdMs: number) {
  const stats = { running: 0, most: 0, runs: 0 };
  const plugin: Plugin = {
    name: 'counted',
    async run(task) {
      stats.running += 1;
      stats.runs += 1;
      stats.most = Math.max(stats.most, stats.running);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      stats.running -= 1;
      return { task: task.task_id };
    },
  };
  return { plugin, stats };
}

function command(i: number): DispatchTask {
  const now = Date.now();
  return {
    type: 'DispatchTask',
    execution_id: 'conc-1',
    plan_id: 'conc',
    phase_id: 'p',
    task_id: `t${i}`,
    attempt_number: 1,
    plugin: 'counted',
    description: '',
    entry_point: { type: 'function', value: 'run' },
    input_context: {},
    output_key: `t${i}`,
    dispatched_at: now,
    deadline_at: now + 60_000,
  };
}

describe('dispatcher concurrency', () => {
  it('runs at most `concurrency` attempts of a plugin at once, though more commands are delivered', async () => {
    const { plugin, stats } = countingPlugin(100);
    dispatcher = await startDispatcher({
      connection: nc,
      logger: noopLogger,
      plugins: [plugin],
      concurrency: 3,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 12; i++) {
      await publishJson(js, Subjects.tasks('counted'), command(i), {
        msgID: MessageIds.dispatch('conc-1', `t${i}`, 1),
      });
    }
    const jsm = await jetstreamManager(nc);
    const outcomes = () =>
      jsm.streams
        .info(Streams.outcomes, { subjects_filter: Subjects.outcomes('conc-1') })
        .then((info) => info.state.subjects?.[Subjects.outcomes('conc-1')] ?? 0);
    await waitFor(async () => ((await outcomes()) === 12 ? true : undefined), {
      what: '12 outcomes',
      timeoutMs: 20_000,
    });
    expect(stats.runs).toBe(12);
    expect(stats.most).toBe(3);
  });
});
