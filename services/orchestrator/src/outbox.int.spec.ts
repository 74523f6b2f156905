import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, noopLogger, provisionAll, readEvents } from '@orchestra/bus';
import { Streams, Subjects } from '@orchestra/contracts';
import type { Effect } from '@orchestra/execution';
import { useNatsServer } from '@orchestra/testing';
import { EffectPublisher } from './effect-publisher.js';
import { ExecutionStore } from './execution-store.js';
import { Orchestrator } from './orchestrator.js';

/** The real publisher, counting what it is asked to publish; it can be told to fail. */
class CountingPublisher extends EffectPublisher {
  published: Effect[] = [];
  failNext = 0;

  override async publish(effects: readonly Effect[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('publish failed (test)');
    }
    this.published.push(...effects);
    await super.publish(effects);
  }
}

/** The real store, counting the records the outbox reads back. */
class CountingStore extends ExecutionStore {
  reads = 0;

  override record(seq: number) {
    this.reads += 1;
    return super.record(seq);
  }
}

const server = useNatsServer();
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'outbox-test', env: {} });
  await provisionAll(nc);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
});

function orchestrator() {
  const publisher = new CountingPublisher(nc, js);
  const store = new CountingStore(js, jsm, noopLogger);
  return {
    publisher,
    store,
    orchestrator: new Orchestrator(store, publisher, { now: Date.now }, noopLogger),
  };
}

const plan = (width: number) => ({
  plan_id: 'outbox',
  phases: [
    {
      phase_id: 'p1',
      tasks: Array.from({ length: width }, (_, i) => ({
        task_id: `t${i}`,
        assigned_plugin: 'outbox-test',
        entry_point: { type: 'function', value: 'echo' },
      })),
    },
  ],
});

/** DispatchTask commands stored for the test's plugin (no dispatcher consumes them). */
async function dispatchesStored(): Promise<number> {
  const info = await jsm.streams.info(Streams.tasks, { subjects_filter: Subjects.tasks('outbox-test') });
  return info.state.subjects?.[Subjects.tasks('outbox-test')] ?? 0;
}

describe('effects after an append', () => {
  it('are published right after the append, and the outbox then publishes nothing again', async () => {
    const { publisher, store, orchestrator: o } = orchestrator();
    await o.handle({ kind: 'execute', execution_id: 'outbox-1', plan: plan(3) });
    const kinds = publisher.published.map((effect) => effect.kind);
    expect(kinds.filter((kind) => kind === 'dispatch')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'timer')).toHaveLength(1); // one shared deadline timer

    // The outbox's turn for the stored record: already done.
    const { events } = await readEvents(jsm, 'outbox-1');
    const seq = events[0]?.seq as number;
    publisher.published = [];
    await o.publishEffectsOf(events[0]?.event.execution_id as string, seq);
    expect(publisher.published).toEqual([]);
    // Its own record is not even read back (the outbox consumer delivers headers only).
    expect(store.reads).toBe(0);
  });

  it('are left to the outbox when publishing them right after the append fails', async () => {
    const before = await dispatchesStored();
    const { publisher, store, orchestrator: o } = orchestrator();
    publisher.failNext = 1;
    await o.handle({ kind: 'execute', execution_id: 'outbox-2', plan: plan(2) });
    expect(publisher.published).toEqual([]);
    expect(await dispatchesStored()).toBe(before);

    const { events } = await readEvents(jsm, 'outbox-2');
    await o.publishEffectsOf(events[0]?.event.execution_id as string, events[0]?.seq as number);
    expect(publisher.published.filter((effect) => effect.kind === 'dispatch')).toHaveLength(2);
    expect(await dispatchesStored()).toBe(before + 2);
    expect(store.reads).toBe(1);
  });

  it('are published by the outbox of a replica that did not append the record', async () => {
    const appender = orchestrator();
    const other = orchestrator();
    await appender.orchestrator.handle({ kind: 'execute', execution_id: 'outbox-3', plan: plan(2) });
    const { events } = await readEvents(jsm, 'outbox-3');
    await other.orchestrator.publishEffectsOf(
      events[0]?.event.execution_id as string,
      events[0]?.seq as number,
    );
    // Judged from the log it reads; the repeats are deduplicated by their message ids.
    expect(other.publisher.published.filter((effect) => effect.kind === 'dispatch')).toHaveLength(2);
  });
});
