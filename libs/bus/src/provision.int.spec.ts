import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets, Streams, Subjects } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { connectNats } from './connection.js';
import { ensureResultsBucket, openResultsBucket } from './kv.js';
import { ensureConsumer, provisionStreams } from './provision.js';
import { publishJson } from './publish.js';

const server = useNatsServer();
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'provision-test', env: {} });
});
afterAll(async () => {
  await nc?.close();
});

describe('provisionStreams', () => {
  it('creates every stream once and leaves them unchanged the second time', async () => {
    const jsm = await jetstreamManager(nc);
    const first = await provisionStreams(jsm);
    expect(first.map((r) => r.action)).toEqual(Array(6).fill('created'));
    const second = await provisionStreams(jsm);
    expect(second.map((r) => r.action)).toEqual(Array(6).fill('unchanged'));
    expect(second.map((r) => r.stream).sort()).toEqual(Object.values(Streams).sort());
  });

  it('gives each stream its subjects and retention', async () => {
    const jsm = await jetstreamManager(nc);
    const events = await jsm.streams.info(Streams.events);
    expect(events.config.subjects).toEqual([Subjects.allEvents]);
    expect(events.config.retention).toBe(RetentionPolicy.Limits);
    expect(events.config.allow_direct).toBe(true);
    expect(events.config.max_age).toBe(0);
    expect(events.config.max_bytes).toBe(-1);
    const tasks = await jsm.streams.info(Streams.tasks);
    expect(tasks.config.subjects).toEqual([Subjects.allTasks]);
    expect(tasks.config.retention).toBe(RetentionPolicy.Workqueue);
    expect(tasks.config.duplicate_window).toBe(120_000_000_000);
    const dlq = await jsm.streams.info(Streams.deadLetters);
    expect(dlq.config.max_age).toBe(30 * 24 * 3600 * 1e9);
  });

  it('updates a stream whose options changed, then is idempotent again', async () => {
    const jsm = await jetstreamManager(nc);
    const options = { eventsMaxAgeMs: 7 * 24 * 3600_000, eventsMaxBytes: 1 << 30 };
    const changed = await provisionStreams(jsm, options);
    expect(changed.find((r) => r.stream === Streams.events)?.action).toBe('updated');
    expect(changed.filter((r) => r.action === 'unchanged')).toHaveLength(5);
    const info = await jsm.streams.info(Streams.events);
    expect(info.config.max_bytes).toBe(1 << 30);
    expect((await provisionStreams(jsm, options)).every((r) => r.action === 'unchanged')).toBe(true);
  });
});

describe('ensureConsumer', () => {
  it('creates a durable pull consumer and is idempotent', async () => {
    const jsm = await jetstreamManager(nc);
    const config = { durable_name: 'provision-echo', filter_subject: Subjects.tasks('echo'), max_deliver: 5 };
    const created = await ensureConsumer(jsm, Streams.tasks, config);
    expect(created.config.durable_name).toBe('provision-echo');
    const again = await ensureConsumer(jsm, Streams.tasks, config);
    expect(again.created).toBe(created.created);
    const updated = await ensureConsumer(jsm, Streams.tasks, { ...config, max_deliver: 7 });
    expect(updated.config.max_deliver).toBe(7);
    expect(updated.config.filter_subject).toBe(Subjects.tasks('echo'));
  });
});

describe('results bucket', () => {
  it('is created once with history 1 and can be opened', async () => {
    const kvm = new Kvm(nc);
    await ensureResultsBucket(kvm);
    const kv = await ensureResultsBucket(kvm);
    expect((await kv.status()).history).toBe(1);
    const opened = await openResultsBucket(jetstream(nc));
    await opened.put('exec-1', JSON.stringify({ status: 'completed' }));
    expect((await kv.get('exec-1'))?.json()).toEqual({ status: 'completed' });
    expect((await kv.status()).bucket).toBe(Buckets.results);
  });
});

describe('publishJson', () => {
  it('stores a repeated msgID once', async () => {
    const js = jetstream(nc);
    const subject = Subjects.tasks('dedupe');
    const first = await publishJson(js, subject, { n: 1 }, { msgID: 'dedupe-1' });
    const second = await publishJson(js, subject, { n: 1 }, { msgID: 'dedupe-1' });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(Streams.tasks, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(1);
  });
});
