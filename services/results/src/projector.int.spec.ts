import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { appendEvents, noopLogger, openResultsBucket, provisionAll } from '@orchestra/bus';
import { type ExecutionEvent, ValidationError } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import {
  bucketWrites,
  EventLog,
  messagesOf,
  resultsOfLog,
  type StoredMessage,
  storedResults,
  watchForRegressions,
} from '../../../test/support/event-log.js';
import { ResultsProjector } from './projector.js';

/**
 * The projector against a real nats-server, fed by hand in delivery order as the consumer feeds
 * it (many messages at once), so that what it writes, and when, can be counted exactly.
 */
describe('ResultsProjector', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let kv: KV;
  let counter = 0;

  beforeAll(async () => {
    nc = await connect({ servers: server().url });
    await provisionAll(nc);
    jsm = await jetstreamManager(nc);
    kv = await openResultsBucket(jetstream(nc));
  });

  afterAll(async () => {
    await nc.close();
  });

  const projector = (store: KV = kv) =>
    new ResultsProjector(jsm, jetstream(nc), store, noopLogger, 1024 * 1024);
  const newLog = () => new EventLog(jetstream(nc), `proj-${++counter}`);
  /** Hands messages to the projector as the consumer does: all at once, in order. */
  const deliver = (to: ResultsProjector, messages: readonly StoredMessage[]) =>
    Promise.allSettled(messages.map((message) => to.apply(message.events, message.seq, message.link)));
  const after = (messages: readonly StoredMessage[], seq: number) => messages.filter((m) => m.seq > seq);

  it('writes a burst of messages of one execution in two writes, equal to the fold of the log', async () => {
    const log = newLog();
    await log.start(300);
    await log.runToEnd();
    const messages = await messagesOf(jsm, log.executionId);
    expect(messages.length).toBeGreaterThan(300);

    const before = await bucketWrites(kv);
    const settled = await deliver(projector(), messages);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    // The first record opens the log: it is written at once, with nothing to read first; every
    // other one comes while that write is in flight and goes out in the next.
    expect((await bucketWrites(kv)) - before).toBe(2);
    const stored = await storedResults(kv, log.executionId);
    expect(stored?.status).toBe('completed');
    expect(stored).toEqual(resultsOfLog(messages, log.executionId));
  });

  it('reads the log when the first record comes again after the results were written (a restart)', async () => {
    const log = newLog();
    await log.start(20);
    await log.runToEnd();
    const messages = await messagesOf(jsm, log.executionId);
    await deliver(projector(), messages);
    const final = await storedResults(kv, log.executionId);
    expect(final?.status).toBe('completed');

    // A new instance is given the first record again (redelivered): creating the entry
    // conflicts, so it folds the whole log instead of storing the first record's fold.
    const settled = await deliver(projector(), messages.slice(0, 1));
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(await storedResults(kv, log.executionId)).toEqual(final);
  });

  it('groups the messages that come while a write is in flight into the next write', async () => {
    const log = newLog();
    await log.start(50);
    const started = await messagesOf(jsm, log.executionId);
    const p = projector();
    await deliver(p, started);
    const lastStarted = started.at(-1)?.seq ?? 0;
    await log.runToEnd();
    const rest = after(await messagesOf(jsm, log.executionId), lastStarted);
    expect(rest.length).toBeGreaterThanOrEqual(50);

    const before = await bucketWrites(kv);
    const [first, ...others] = rest;
    const writing = p.apply(first?.events ?? [], first?.seq ?? 0); // starts a write at once
    const settled = await deliver(p, others); // all folded while it is in flight
    await writing;
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    expect((await bucketWrites(kv)) - before).toBe(2);
    expect(await storedResults(kv, log.executionId)).toEqual(
      resultsOfLog(await messagesOf(jsm, log.executionId), log.executionId),
    );
  });

  it('acks nothing whose write failed, and reads the whole log again for the next message', async () => {
    const log = newLog();
    await log.start(10);
    const p = projector(failingOnce(kv, 'update'));
    const started = await messagesOf(jsm, log.executionId);
    await deliver(p, started);

    await log.advance(1);
    const failed = after(await messagesOf(jsm, log.executionId), started.at(-1)?.seq ?? 0);
    const outcomes = await deliver(p, failed);
    // Its write failed: the message is not acked (the consumer naks it and it comes again).
    expect(outcomes.map((o) => o.status)).toEqual(failed.map(() => 'rejected'));

    await log.runToEnd();
    const all = await messagesOf(jsm, log.executionId);
    const rest = after(all, failed.at(-1)?.seq ?? 0);
    expect((await deliver(p, rest)).every((s) => s.status === 'fulfilled')).toBe(true);
    // The failed message was not folded twice nor skipped: the cache was dropped and the log re-read.
    expect(await storedResults(kv, log.executionId)).toEqual(resultsOfLog(all, log.executionId));
    // Its redelivery is already in the results.
    expect((await deliver(p, failed)).every((s) => s.status === 'fulfilled')).toBe(true);
    expect(await storedResults(kv, log.executionId)).toEqual(resultsOfLog(all, log.executionId));
  });

  it('reads the log again when a message comes after a later one of the same execution', async () => {
    const log = newLog();
    await log.start(3);
    const p = projector();
    const started = await messagesOf(jsm, log.executionId);
    await deliver(p, started);
    await log.advance(1);
    const [missed] = after(await messagesOf(jsm, log.executionId), started.at(-1)?.seq ?? 0);
    await log.advance(1);
    const [later] = after(await messagesOf(jsm, log.executionId), missed?.seq ?? 0);
    if (!missed || !later) throw new Error('expected two more messages');

    // `later` first (as if `missed` had gone to another instance, or failed there): a gap.
    await p.apply(later.events, later.seq);
    const gapped = await storedResults(kv, log.executionId);
    expect(gapped?.summary.successful).toBe(1);

    await p.apply(missed.events, missed.seq);
    const all = await messagesOf(jsm, log.executionId);
    const stored = await storedResults(kv, log.executionId);
    expect(stored?.summary.successful).toBe(2);
    expect(stored).toEqual(resultsOfLog(all, log.executionId));
  });

  it('rejects events of an execution that was never started, as invalid', async () => {
    const id = `proj-orphan-${++counter}`;
    const orphan: ExecutionEvent = {
      type: 'PhaseStarted',
      execution_id: id,
      phase_id: 'p',
      at: 1_000,
    };
    const seq = await appendEvents(jetstream(nc), id, [orphan], 0);
    await expect(projector().apply([orphan], seq)).rejects.toBeInstanceOf(ValidationError);
    expect(await storedResults(kv, id)).toBeUndefined();
  });

  it('never stores a fold with a hole: a record it was not given is read from the log (the hash chain shows it)', async () => {
    const log = newLog();
    await log.start(8);
    await log.runToEnd();
    const messages = await messagesOf(jsm, log.executionId);
    // A success in the middle goes to the other results service, whose write then fails for good
    // (its message dropped after its last delivery): this one is given every other record.
    const middle = messages.findIndex(
      (message, index) =>
        index > messages.length / 3 && message.events.some((event) => event.type === 'TaskSucceeded'),
    );
    expect(middle).toBeGreaterThan(0);
    const given = messages.filter((_, index) => index !== middle);
    const settled = await deliver(projector(), given);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(await storedResults(kv, log.executionId)).toEqual(resultsOfLog(messages, log.executionId));
  });

  it('two projectors sharing the messages of one execution never store an older fold', async () => {
    const log = newLog();
    await log.start(120);
    const watch = await watchForRegressions(kv, log.executionId);
    const instances = [projector(), projector()];
    const pending: Promise<unknown>[] = [];
    let seen = 0;
    let turn = 0;
    for (let more = true; more; ) {
      more = await log.advance(3);
      // The shared durable consumer hands each new message to one instance or the other.
      for (const message of after(await messagesOf(jsm, log.executionId), seen)) {
        const instance = instances[turn++ % 2] as ResultsProjector;
        pending.push(instance.apply(message.events, message.seq, message.link));
        seen = message.seq;
      }
      if (turn % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const settled = await Promise.allSettled(pending);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const all = await messagesOf(jsm, log.executionId);
    // Every message was acked only once a write holding it was stored: the last write holds all.
    expect(await storedResults(kv, log.executionId)).toEqual(resultsOfLog(all, log.executionId));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await watch.stop();
    expect(watch.values()).toBeGreaterThan(1);
    expect(watch.regressions).toEqual([]);
  });
});

/** The real bucket, except that the first call of `method` fails (a write lost to a network error). */
function failingOnce(kv: KV, method: 'update' | 'create'): KV {
  let failed = false;
  return new Proxy(kv, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!failed) {
          failed = true;
          return Promise.reject(new Error(`injected ${method} failure`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
