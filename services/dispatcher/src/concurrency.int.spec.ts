import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, noopLogger, publishJson, type RunningService } from '@orchestra/bus';
import { type DispatchTask, MessageIds, Streams, Subjects } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
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

function command(i: number, plugin = 'counted', execution = 'conc-1'): DispatchTask {
  const now = Date.now();
  return {
    type: 'DispatchTask',
    execution_id: execution,
    plan_id: 'conc',
    phase_id: 'p',
    task_id: `t${i}`,
    attempt_number: 1,
    plugin,
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

describe('dispatcher heartbeats', () => {
  it('runs an attempt that takes longer than the ack wait (10 s) once: its heartbeat keeps it', async () => {
    let runs = 0;
    const slow: Plugin = {
      name: 'slow',
      async run() {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 12_000));
        return { done: true };
      },
    };
    const service = await startDispatcher({ connection: nc, logger: noopLogger, plugins: [slow] });
    try {
      const js = jetstream(nc);
      await publishJson(js, Subjects.tasks('slow'), command(0, 'slow', 'slow-1'), {
        msgID: MessageIds.dispatch('slow-1', 't0', 1),
      });
      const jsm = await jetstreamManager(nc);
      await waitFor(
        async () => {
          const info = await jsm.streams.info(Streams.outcomes, {
            subjects_filter: Subjects.outcomes('slow-1'),
          });
          return (info.state.subjects?.[Subjects.outcomes('slow-1')] ?? 0) > 0 ? true : undefined;
        },
        { what: 'the outcome', timeoutMs: 20_000 },
      );
      const consumer = await jsm.consumers.info(Streams.tasks, 'dispatch-slow');
      expect(runs).toBe(1);
      expect(consumer.num_redelivered).toBe(0);
    } finally {
      await service.stop();
    }
  }, 30_000);
});
