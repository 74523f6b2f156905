import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors, type NatsConnection, nanos } from '@nats-io/transport-node';
import { Streams, Subjects, ValidationError } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { waitFor } from '../../../test/support/wait.js';
import { connectNats } from './connection.js';
import { type HandlerResult, type MessageContext, type RunningConsumer, runConsumer } from './consumer.js';
import { DeadLetterRecord } from './dead-letters.js';
import { ensureConsumer, provisionStreams } from './provision.js';
import { publishJson } from './publish.js';

const server = useNatsServer();
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const running: RunningConsumer[] = [];

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'consumer-test', env: {} });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await provisionStreams(jsm);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});
afterAll(async () => {
  await nc?.close();
});

const Job = z.strictObject({ n: z.number().int() });
type Job = z.infer<typeof Job>;

/** A durable consumer on its own plugin subject of the tasks work queue; ack_wait 1 s. */
async function setup(plugin: string, ackWaitMs = 1000): Promise<{ subject: string; durable: string }> {
  const durable = `test-${plugin}`;
  const subject = Subjects.tasks(plugin);
  await ensureConsumer(jsm, Streams.tasks, {
    durable_name: durable,
    filter_subject: subject,
    ack_wait: nanos(ackWaitMs),
  });
  return { subject, durable };
}

function start(
  durable: string,
  handler: (job: Job, ctx: MessageContext) => Promise<HandlerResult> | HandlerResult,
  extra: { maxDeliver?: number; concurrency?: number; js?: JetStreamClient } = {},
): RunningConsumer {
  const consumer = runConsumer({
    js,
    stream: Streams.tasks,
    durable,
    schema: Job,
    handler,
    nakDelay: () => 20,
    ...extra,
  });
  running.push(consumer);
  return consumer;
}

/** Nothing pending or awaiting an ack: every message was acked or terminated. */
async function settled(durable: string): Promise<void> {
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(Streams.tasks, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: `${durable} to settle` },
  );
}

async function lastDeadLetter(): Promise<DeadLetterRecord | undefined> {
  const msg = await jsm.streams.getMessage(Streams.deadLetters, {
    last_by_subj: Subjects.deadLetters('tasks'),
  });
  return msg ? DeadLetterRecord.parse(msg.json()) : undefined;
}

describe('runConsumer', () => {
  it('hands valid messages to the handler and acks them', async () => {
    const { subject, durable } = await setup('ack');
    const seen: Array<{ n: number; deliveryCount: number }> = [];
    start(durable, (job, ctx) => {
      seen.push({ n: job.n, deliveryCount: ctx.deliveryCount });
      return { ack: true };
    });
    for (let n = 1; n <= 5; n++) await publishJson(js, subject, { n });
    await waitFor(() => seen.length === 5, { what: '5 messages' });
    await settled(durable);
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => ({ n, deliveryCount: 1 })));
    // Work queue: acked messages are gone from the stream.
    const info = await jsm.streams.info(Streams.tasks, { subjects_filter: subject });
    expect(info.state.subjects?.[subject] ?? 0).toBe(0);
  });

  it('dead-letters and terminates an invalid message without redelivering it', async () => {
    const { subject, durable } = await setup('invalid');
    const seen: number[] = [];
    start(durable, (job) => {
      seen.push(job.n);
      return { ack: true };
    });
    const bad = await publishJson(js, subject, { n: 'one', extra: true });
    await publishJson(js, subject, { n: 2 });
    await waitFor(() => seen.includes(2), { what: 'the valid message' });
    await settled(durable);
    const letter = await waitFor(async () => {
      const record = await lastDeadLetter();
      return record?.stream_seq === bad.seq ? record : undefined;
    });
    expect(letter).toMatchObject({ source: 'tasks', stream: Streams.tasks, subject, delivery_count: 1 });
    expect(JSON.parse(letter.payload)).toEqual({ n: 'one', extra: true });
    expect(letter.issues.map((i) => i.path)).toContain('n');
    const info = await jsm.consumers.info(Streams.tasks, durable);
    expect(info.num_redelivered).toBe(0);
    expect(seen).toEqual([2]);
  });

  it('dead-letters a message whose handler throws a ValidationError', async () => {
    const { subject, durable } = await setup('rejects');
    let calls = 0;
    start(durable, () => {
      calls++;
      throw new ValidationError('plan is wrong', [{ path: 'plan.phases', message: 'required' }]);
    });
    const pub = await publishJson(js, subject, { n: 1 });
    const letter = await waitFor(async () => {
      const record = await lastDeadLetter();
      return record?.stream_seq === pub.seq ? record : undefined;
    });
    expect(letter.reason).toBe('plan is wrong');
    expect(letter.issues).toEqual([{ path: 'plan.phases', message: 'required' }]);
    await settled(durable);
    expect(calls).toBe(1);
  });

  it('naks a failing handler and succeeds on a redelivery', async () => {
    const { subject, durable } = await setup('flaky');
    const deliveries: number[] = [];
    start(durable, (_job, ctx) => {
      deliveries.push(ctx.deliveryCount);
      if (ctx.deliveryCount < 3) throw new Error('transient');
      return { ack: true };
    });
    await publishJson(js, subject, { n: 1 });
    await waitFor(() => deliveries.length === 3, { what: '3 deliveries' });
    await settled(durable);
    expect(deliveries).toEqual([1, 2, 3]);
  });

  it('handles a message again on the same delivery while the bus cannot answer, so an election does not use up its deliveries', async () => {
    const { subject, durable } = await setup('election');
    const deliveries: number[] = [];
    start(
      durable,
      (_job, ctx) => {
        deliveries.push(ctx.deliveryCount);
        // What a publish or a JetStream request raises while a stream elects its leader.
        if (deliveries.length <= 6) throw new errors.TimeoutError();
        return { ack: true };
      },
      { maxDeliver: 2 },
    );
    const pub = await publishJson(js, subject, { n: 1 });
    await waitFor(() => deliveries.length === 7, { what: '7 calls' });
    await settled(durable);
    // Seven calls on the first delivery (with maxDeliver 2, naks would have dropped it).
    expect(deliveries).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect((await lastDeadLetter())?.stream_seq).not.toBe(pub.seq);
  });

  it('dead-letters a message still failing on its last allowed delivery', async () => {
    const { subject, durable } = await setup('broken');
    let calls = 0;
    start(
      durable,
      () => {
        calls++;
        throw new Error('always broken');
      },
      { maxDeliver: 3 },
    );
    const pub = await publishJson(js, subject, { n: 1 });
    const letter = await waitFor(async () => {
      const record = await lastDeadLetter();
      return record?.stream_seq === pub.seq ? record : undefined;
    });
    expect(letter.delivery_count).toBe(3);
    expect(letter.reason).toContain('always broken');
    await settled(durable);
    expect(calls).toBe(3);
  });

  it('waits for a consumer that does not exist yet, and stops cleanly', async () => {
    const seen: number[] = [];
    const consumer = start('test-late', (job) => {
      seen.push(job.n);
      return { ack: true };
    });
    const { subject } = await setup('late');
    await publishJson(js, subject, { n: 7 });
    await waitFor(() => seen.includes(7), { what: 'the message on the late consumer' });
    await consumer.stop();
    await consumer.done;
  });

  it('runs up to `concurrency` handlers at once and stop() waits for them', async () => {
    const { subject, durable } = await setup('parallel');
    let active = 0;
    let peak = 0;
    let finished = 0;
    const release: Array<() => void> = [];
    const consumer = start(
      durable,
      async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((resolve) => release.push(resolve));
        active--;
        finished++;
        return { ack: true };
      },
      { concurrency: 3 },
    );
    for (let n = 1; n <= 4; n++) await publishJson(js, subject, { n });
    await waitFor(() => active === 3, { what: '3 handlers running' });
    expect(peak).toBe(3);
    for (const r of release.splice(0)) r();
    await waitFor(() => active === 1, { what: 'the 4th handler' });
    const stopped = consumer.stop();
    let stopDone = false;
    void stopped.then(() => {
      stopDone = true;
    });
    await waitFor(() => release.length === 1, { what: 'the last handler to wait' });
    expect(stopDone).toBe(false);
    release[0]?.();
    await stopped;
    expect(finished).toBe(4);
    await settled(durable);
  });
});

describe('runConsumer with all slots busy', () => {
  it('keeps a waiting message alive, so it is handled once even when slots stay busy past the ack wait', async () => {
    const { subject, durable } = await setup('slow-slots');
    const deliveries: Array<{ n: number; deliveryCount: number }> = [];
    start(
      durable,
      async (job, ctx) => {
        deliveries.push({ n: job.n, deliveryCount: ctx.deliveryCount });
        // 2.5 times the 1 s ack wait, without calling working(): the consumer keeps every
        // message it holds alive, the running ones as much as the waiting ones.
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        return { ack: true };
      },
      { concurrency: 1 },
    );
    await publishJson(js, subject, { n: 1 });
    await publishJson(js, subject, { n: 2 });
    await waitFor(() => deliveries.length >= 2, { timeoutMs: 20_000, what: 'both jobs to start' });
    await settled(durable);
    expect(deliveries).toEqual([
      { n: 1, deliveryCount: 1 },
      { n: 2, deliveryCount: 1 },
    ]);
  });
});

/** A handler that takes `ms` and leaves keeping its message alive to the consumer, as the services do. */
async function slowJob(ms: number): Promise<HandlerResult> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { ack: true };
}

describe('runConsumer and the ack wait', () => {
  it('tells handlers to keep their message alive at a third of the ack wait', async () => {
    const { subject, durable } = await setup('keep-alive-interval', 1500);
    const seen: number[] = [];
    start(durable, (_job, ctx) => {
      seen.push(ctx.keepAliveMs);
      return { ack: true };
    });
    await publishJson(js, subject, { n: 1 });
    await waitFor(() => seen.length === 1, { what: 'the message' });
    expect(seen).toEqual([500]);
  });

  it('keeps every message it holds alive: a backlog is handled once each while slots stay busy past the ack wait', async () => {
    const { subject, durable } = await setup('backlog');
    const deliveries: Array<{ n: number; deliveryCount: number }> = [];
    let peakHeld = 0;
    // 4 slots of handlers 1.2 times the 1 s ack wait, 16 messages: most wait several ack waits
    // for a slot, some in the batch already fetched and some still on the server.
    start(
      durable,
      (job, ctx) => {
        deliveries.push({ n: job.n, deliveryCount: ctx.deliveryCount });
        return slowJob(1200);
      },
      { concurrency: 4 },
    );
    for (let n = 1; n <= 16; n++) await publishJson(js, subject, { n });
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(Streams.tasks, durable);
        peakHeld = Math.max(peakHeld, info.num_ack_pending);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the backlog to be handled' },
    );
    expect(deliveries.map((d) => d.deliveryCount)).toEqual(Array(16).fill(1));
    expect(deliveries.map((d) => d.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    expect((await jsm.consumers.info(Streams.tasks, durable)).num_redelivered).toBe(0);
    // It asks only for what it has room for (the slots, plus a batch waiting), not the backlog.
    expect(peakHeld).toBeLessThan(16);
  });

  it('stop() gives the messages not started back at once, long before their ack wait', async () => {
    const { subject, durable } = await setup('give-back', 30_000);
    const release: Array<() => void> = [];
    const first: number[] = [];
    const a = start(
      durable,
      async (job) => {
        first.push(job.n);
        await new Promise<void>((resolve) => release.push(resolve));
        return { ack: true };
      },
      { concurrency: 1 },
    );
    try {
      for (let n = 1; n <= 4; n++) await publishJson(js, subject, { n });
      await waitFor(
        async () =>
          first.length === 1 && (await jsm.consumers.info(Streams.tasks, durable)).num_ack_pending === 4,
        { what: 'one message running and three waiting' },
      );
      // Another replica, pulling already (a rolling update). Were none waiting, nats-server 2.9
      // would hand a redelivery to the stopped replica's pull request, which nobody hears.
      const second: Array<{ n: number; deliveryCount: number }> = [];
      start(durable, (job, ctx) => {
        second.push({ n: job.n, deliveryCount: ctx.deliveryCount });
        return { ack: true };
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const stopped = a.stop();
      await waitFor(() => second.length === 3, { what: 'the three waiting messages elsewhere' });
      expect(second.map((d) => d.n).sort()).toEqual([2, 3, 4]);
      expect(second.every((d) => d.deliveryCount === 2)).toBe(true);
      release[0]?.();
      await stopped;
      expect(first).toEqual([1]);
      await settled(durable);
    } finally {
      for (const r of release) r();
    }
  });

  it('messages held by a process that dies come back after the ack wait', async () => {
    const { subject, durable } = await setup('dies', 1000);
    const doomed = await connectNats({ servers: [server().url], name: 'doomed', env: {} });
    const held: number[] = [];
    let release = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const dead = start(
      durable,
      async (job) => {
        held.push(job.n);
        await hung; // until the process "dies"
        return { ack: true };
      },
      { concurrency: 1, js: jetstream(doomed) },
    );
    try {
      for (let n = 1; n <= 3; n++) await publishJson(js, subject, { n });
      await waitFor(
        async () =>
          held.length === 1 && (await jsm.consumers.info(Streams.tasks, durable)).num_ack_pending === 3,
        { what: 'the doomed consumer to hold all three' },
      );
      // A closed connection sends nothing more: no ack, no nak, no working(), as after kill -9.
      await doomed.close();
      const diedAt = Date.now();
      const after: Array<{ n: number; deliveryCount: number; at: number }> = [];
      start(durable, (job, ctx) => {
        after.push({ n: job.n, deliveryCount: ctx.deliveryCount, at: Date.now() - diedAt });
        return { ack: true };
      });
      await waitFor(() => after.length === 3, { what: 'the three messages again' });
      expect(after.map((d) => d.n).sort()).toEqual([1, 2, 3]);
      expect(after.every((d) => d.deliveryCount === 2)).toBe(true);
      // After the 1 s ack wait, not long after.
      expect(Math.max(...after.map((d) => d.at))).toBeLessThan(1000 + 3000);
      await settled(durable);
    } finally {
      release();
      await doomed.close();
      await dead.done;
    }
  });
});
