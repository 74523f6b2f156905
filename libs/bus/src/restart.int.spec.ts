import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Streams, Subjects } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { waitFor } from '../../../test/support/wait.js';
import { connectNats } from './connection.js';
import { runConsumer } from './consumer.js';
import { appendEvents, readEvents } from './events.js';
import { ensureConsumer, provisionStreams } from './provision.js';
import { publishJson } from './publish.js';

// The int project's testTimeout in jest.config.cjs is not applied to projects by Jest 30.
jest.setTimeout(60_000);

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats({ servers: [server.url], name: 'restart-test', env: {}, reconnectTimeWaitMs: 100 });
  await provisionStreams(await jetstreamManager(nc));
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** Resolves on the connection's next reconnect (start it before the disconnect). */
async function reconnected(connection: NatsConnection): Promise<void> {
  for await (const status of connection.status()) {
    if (status.type === 'reconnect') return;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('nats-server kill -9 and restart', () => {
  it('keeps stored messages and the client reconnects on the same port', async () => {
    const js = jetstream(nc);
    const last = await appendEvents(
      js,
      'exec-r',
      [
        { type: 'PhaseStarted', execution_id: 'exec-r', at: 1, phase_id: 'p1' },
        { type: 'ExecutionFinished', execution_id: 'exec-r', at: 2, status: 'completed' },
      ],
      0,
    );
    const before = { port: server.port, pid: server.pid, storeDir: server.storeDir };
    const back = reconnected(nc);
    await server.kill();
    expect(alive(before.pid)).toBe(false);
    await server.restart();
    await back;
    expect(server.port).toBe(before.port);
    expect(server.storeDir).toBe(before.storeDir);
    expect(server.pid).not.toBe(before.pid);
    const read = await waitFor(() => readEvents(js, 'exec-r').catch(() => undefined), { what: 'a read' });
    expect(read.lastSeq).toBe(last);
    expect(read.events.map((e) => e.event.type)).toEqual(['PhaseStarted', 'ExecutionFinished']);
  });

  it('keeps a consumer running across a restart', async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const subject = Subjects.tasks('survivor');
    await ensureConsumer(jsm, Streams.tasks, { durable_name: 'survivor', filter_subject: subject });
    const seen: number[] = [];
    const consumer = runConsumer({
      js,
      stream: Streams.tasks,
      durable: 'survivor',
      schema: z.object({ n: z.number() }),
      handler: (job) => {
        seen.push(job.n);
        return { ack: true };
      },
    });
    try {
      await publishJson(js, subject, { n: 1 });
      await waitFor(() => seen.includes(1), { what: 'the first message' });
      const back = reconnected(nc);
      await server.kill();
      await server.restart();
      await back;
      await publishJson(js, subject, { n: 2 });
      await waitFor(() => seen.includes(2), {
        what: 'the message published after the restart',
        timeoutMs: 30_000,
      });
      expect(seen).toEqual([1, 2]);
    } finally {
      await consumer.stop();
    }
  });

  it('stop() ends the process and removes its store directory', async () => {
    const other = await startNatsServer();
    const { pid, storeDir } = other;
    expect(alive(pid)).toBe(true);
    await other.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
  });
});
