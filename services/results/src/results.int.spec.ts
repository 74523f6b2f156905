import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { noopLogger, openResultsBucket, provisionAll, type RunningService } from '@orchestra/bus';
import { useNatsServer } from '@orchestra/testing';
import {
  bucketWrites,
  EventLog,
  messagesOf,
  resultsOfLog,
  storedResults,
  watchForRegressions,
} from '../../../test/support/event-log.js';
import { waitFor } from '../../../test/support/wait.js';
import { startResults } from './main.js';

/**
 * The results service with its real consumer, against a real nats-server: event logs are
 * written as the orchestrator writes them, and the service is started, crashed and doubled.
 */
describe('results service', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let kv: KV;
  let counter = 0;
  const connections: NatsConnection[] = [];
  const services: RunningService[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: server().url });
    await provisionAll(nc);
    jsm = await jetstreamManager(nc);
    kv = await openResultsBucket(jetstream(nc));
  });

  afterEach(async () => {
    for (const service of services.splice(0).reverse()) await service.stop().catch(() => undefined);
    for (const connection of connections.splice(0)) await connection.close().catch(() => undefined);
  });

  afterAll(async () => {
    await nc.close();
  });

  /** A results instance on a connection of its own; a short ack wait so a crash is recovered quickly. */
  const startInstance = async () => {
    const connection = await connect({ servers: server().url, maxReconnectAttempts: -1 });
    connections.push(connection);
    const service = await startResults({
      connection,
      logger: noopLogger,
      provision: false,
      ackWaitMs: 1_500,
    });
    services.push(service);
    return { connection, service };
  };
  const newLog = () => new EventLog(jetstream(nc), `svc-${++counter}`);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** Waits until the stored results are those of the whole log. */
  const caughtUp = async (log: EventLog, timeoutMs = 30_000) => {
    const expected = resultsOfLog(await messagesOf(jsm, log.executionId), log.executionId);
    await waitFor(
      async () => JSON.stringify(await storedResults(kv, log.executionId)) === JSON.stringify(expected),
      { timeoutMs, what: `the results of ${log.executionId} to be the fold of its log` },
    );
    return expected;
  };

  it('catches up on a wide backlog in a few writes, not one per event', async () => {
    const log = newLog();
    await log.start(1_000);
    await log.runToEnd();
    const messages = await messagesOf(jsm, log.executionId);
    const events = messages.reduce((n, message) => n + message.events.length, 0);
    expect(events).toBeGreaterThan(2_000);

    const before = await bucketWrites(kv);
    await startInstance();
    const expected = await caughtUp(log);
    expect(expected.status).toBe('completed');
    expect(expected.summary.successful).toBe(1_000);
    const writes = (await bucketWrites(kv)) - before;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThan(Math.min(10, messages.length / 50));
  });

  it('keeps up with a growing log, never more than one write per message, ending with its fold', async () => {
    const log = newLog();
    await log.start(400);
    const before = await bucketWrites(kv);
    await startInstance();
    while (await log.advance(20)) await pause(1);
    await caughtUp(log);
    // When it keeps up, each message may get its own write; when it falls behind, they group.
    const messages = await messagesOf(jsm, log.executionId);
    expect((await bucketWrites(kv)) - before).toBeLessThanOrEqual(messages.length);
  });

  it('ends with the fold of the log when an instance crashes mid-stream and another takes over', async () => {
    const log = newLog();
    await log.start(600);
    const first = await startInstance();
    const appending = log.runToEnd();
    await waitFor(async () => ((await storedResults(kv, log.executionId))?.summary.successful ?? 0) > 100, {
      what: 'the first instance to write some results',
    });
    // A crash: the connection goes without draining; what it held unacked (a few messages, while
    // the log keeps growing) comes again after the ack wait, to the new instance.
    await first.connection.close();
    await startInstance();
    await appending;
    const expected = await caughtUp(log);
    expect(expected.status).toBe('completed');
    expect(log.finished).toBe(true);
  });

  it('two instances on the same consumer never store an older fold over a newer one', async () => {
    const log = newLog();
    await log.start(300);
    const watch = await watchForRegressions(kv, log.executionId);
    await startInstance();
    await startInstance();
    while (await log.advance(5)) await pause(2);
    await caughtUp(log);
    await pause(200);
    await watch.stop();
    expect(watch.values()).toBeGreaterThan(1);
    expect(watch.regressions).toEqual([]);
  });
});
