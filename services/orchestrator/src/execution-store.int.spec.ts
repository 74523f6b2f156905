import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, GENESIS, noopLogger, provisionAll } from '@orchestra/bus';
import { type ExecutionEvent, validatePlan } from '@orchestra/contracts';
import { fold } from '@orchestra/execution';
import { onePhase, task, useNatsServer } from '@orchestra/testing';
import { ExecutionStore } from './execution-store.js';

// The store's cache of folds: at most `capacity` executions, the least recently written one
// forgotten first; an execution that does not exist is never cached.

const server = useNatsServer();
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'execution-store-test', env: {} });
  await provisionAll(nc);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
});

const validation = validatePlan(onePhase([task('a')]));
if (!validation.ok) throw new Error('invalid test plan');
const { plan } = validation;

/** Starts execution `id` through the store, as the orchestrator does. */
async function start(store: ExecutionStore, id: string): Promise<void> {
  const events: ExecutionEvent[] = [{ type: 'ExecutionStarted', execution_id: id, at: 1, plan }];
  await store.append(id, events, { seq: 0, head: GENESIS }, fold(events));
}

describe('the execution store', () => {
  it('does not cache an execution that does not exist, so made-up ids evict nothing', async () => {
    const store = new ExecutionStore(js, jsm, noopLogger, { capacity: 1 });
    await start(store, 'store-known');
    const unknown = await store.load('store-made-up');
    expect(unknown.state.status).toBe('new');
    expect(store.cached('store-made-up')).toBeUndefined();
    expect(store.cached('store-known')?.state.status).toBe('running');
  });

  it('keeps the most recently written executions up to its capacity; reading one does not keep it', async () => {
    const store = new ExecutionStore(js, jsm, noopLogger, { capacity: 2 });
    await start(store, 'store-1');
    await start(store, 'store-2');
    expect(store.cached('store-1')?.seq).toBeGreaterThan(0);
    await store.load('store-1');
    await start(store, 'store-3');
    expect(store.cached('store-1')).toBeUndefined();
    expect(store.cached('store-2')).toBeDefined();
    expect(store.cached('store-3')).toBeDefined();

    // Read again from its subject, it is cached again: the oldest written (store-2) goes.
    const reloaded = await store.load('store-1');
    expect(reloaded.state.status).toBe('running');
    expect(store.cached('store-1')).toBe(reloaded);
    expect(store.cached('store-2')).toBeUndefined();
  });
});
