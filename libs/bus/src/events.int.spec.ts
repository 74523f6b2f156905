import { JetStreamApiError, type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ConcurrencyError,
  type ExecutionEvent,
  Streams,
  Subjects,
  ValidationError,
} from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { connectNats } from './connection.js';
import { appendEvents, readEvents, splitIntoRecords } from './events.js';
import { provisionStreams } from './provision.js';
import { publishJson } from './publish.js';

const server = useNatsServer();
let nc: NatsConnection;
let js: JetStreamClient;

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'events-test', env: {} });
  js = jetstream(nc);
  await provisionStreams(await jetstreamManager(nc));
});
afterAll(async () => {
  await nc?.close();
});

const phaseStarted = (executionId: string, phaseId: string, at = 1): ExecutionEvent => ({
  type: 'PhaseStarted',
  execution_id: executionId,
  at,
  phase_id: phaseId,
});
const finished = (executionId: string): ExecutionEvent => ({
  type: 'ExecutionFinished',
  execution_id: executionId,
  at: 9,
  status: 'completed',
});

describe('appendEvents', () => {
  it("stores a decision's events as one record: one message, one sequence", async () => {
    const events = [phaseStarted('exec-rec', 'p1'), phaseStarted('exec-rec', 'p2'), finished('exec-rec')];
    const seq = await appendEvents(js, 'exec-rec', events, 0);
    const stored = await (await jetstreamManager(nc)).streams.getMessage(Streams.events, { seq });
    expect(stored?.json()).toEqual(events);
    const read = await readEvents(js, 'exec-rec');
    expect(read.events).toEqual(events.map((event) => ({ seq, event })));
  });

  it('splits a decision larger than one message into records, in order, each chained to the previous', async () => {
    const events = Array.from({ length: 40 }, (_, i) => phaseStarted('exec-split', `phase-${i}`, i));
    const oneEventBytes = JSON.stringify(events[0]).length;
    const last = await appendEvents(js, 'exec-split', events, 0, { maxRecordBytes: oneEventBytes * 10 });
    const read = await readEvents(js, 'exec-split');
    expect(read.events.map((stored) => stored.event)).toEqual(events);
    const seqs = [...new Set(read.events.map((stored) => stored.seq))];
    expect(seqs.length).toBeGreaterThanOrEqual(5);
    expect(seqs.at(-1)).toBe(last);
    expect(
      splitIntoRecords(events, oneEventBytes * 10).every((r) => r.bytes.length <= oneEventBytes * 10),
    ).toBe(true);
  });

  it('appends to an empty subject with lastSubjectSequence 0, then chains expectations', async () => {
    const first = await appendEvents(js, 'exec-a', [phaseStarted('exec-a', 'p1')], 0);
    expect(first).toBeGreaterThan(0);
    const last = await appendEvents(js, 'exec-a', [phaseStarted('exec-a', 'p2'), finished('exec-a')], first);
    expect(last).toBeGreaterThan(first);
    const read = await readEvents(js, 'exec-a');
    expect(read.lastSeq).toBe(last);
    expect(read.events.map((e) => e.event)).toEqual([
      phaseStarted('exec-a', 'p1'),
      phaseStarted('exec-a', 'p2'),
      finished('exec-a'),
    ]);
  });

  it('throws ConcurrencyError on a stale expectation and appends with the right one', async () => {
    const seq = await appendEvents(js, 'exec-b', [phaseStarted('exec-b', 'p1')], 0);
    // Another execution's events move the stream sequence, not this subject's.
    await appendEvents(js, 'exec-other', [phaseStarted('exec-other', 'p1')], 0);
    // A position already taken: its message id is a duplicate, which the server reports first.
    const taken = appendEvents(js, 'exec-b', [phaseStarted('exec-b', 'p2')], 0);
    await expect(taken).rejects.toBeInstanceOf(ConcurrencyError);
    // A position that never existed on this subject: the server's wrong-last-sequence error.
    const stale = appendEvents(js, 'exec-b', [phaseStarted('exec-b', 'p2')], seq + 1);
    const error = await stale.catch((err: unknown) => err);
    expect((error as ConcurrencyError).code).toBe('CONCURRENCY');
    expect((error as Error).cause).toBeInstanceOf(JetStreamApiError);
    expect(((error as Error).cause as JetStreamApiError).code).toBe(10071);
    const next = await appendEvents(js, 'exec-b', [phaseStarted('exec-b', 'p2')], seq);
    expect(next).toBeGreaterThan(seq);
    const read = await readEvents(js, 'exec-b');
    expect(read.events.map((e) => e.seq)).toEqual([seq, next]);
  });

  it("refuses another execution's events before storing anything", async () => {
    // Events are not validated again here: the decider makes them typed, and every reader
    // validates what it reads (an invalid stored record is reported, below).
    await expect(
      appendEvents(js, 'exec-c', [phaseStarted('exec-c', 'p0'), phaseStarted('exec-d', 'p0')], 0),
    ).rejects.toBeInstanceOf(ValidationError);
    expect((await readEvents(js, 'exec-c')).lastSeq).toBe(0);
  });

  it('deduplicates a re-append with the same message ids', async () => {
    const events = [phaseStarted('exec-e', 'p1'), finished('exec-e')];
    const msgId = (recordIndex: number) => `exec-e:${recordIndex}`;
    const last = await appendEvents(js, 'exec-e', events, 0, { msgId });
    // A retry after a crash: the expectation is stale, but the duplicate msg id wins.
    const again = await appendEvents(js, 'exec-e', events, 0, { msgId });
    expect(again).toBe(last);
    expect((await readEvents(js, 'exec-e')).events).toHaveLength(2);
  });
});

describe('readEvents', () => {
  it('returns nothing for an unknown execution', async () => {
    expect(await readEvents(js, 'exec-unknown')).toEqual({ events: [], invalid: [], lastSeq: 0, head: '' });
    expect(await readEvents(await jetstreamManager(nc), 'exec-unknown')).toEqual({
      events: [],
      invalid: [],
      lastSeq: 0,
      head: '',
    });
  });

  it('reads exactly one execution in order, from a sequence on', async () => {
    let seq = 0;
    const appended: number[] = [];
    for (let i = 0; i < 300; i++) {
      seq = await appendEvents(js, 'exec-long', [phaseStarted('exec-long', `p${i}`, i)], seq);
      appended.push(seq);
      if (i % 10 === 0) await appendEvents(js, `exec-noise${i}`, [phaseStarted(`exec-noise${i}`, 'p')], 0);
    }
    const all = await readEvents(js, 'exec-long');
    expect(all.events.map((e) => e.seq)).toEqual(appended);
    expect(all.events.map((e) => (e.event.type === 'PhaseStarted' ? e.event.phase_id : ''))).toEqual(
      appended.map((_, i) => `p${i}`),
    );
    const tail = await readEvents(await jetstreamManager(nc), 'exec-long', { fromSeq: appended[297] });
    expect(tail.events.map((e) => e.seq)).toEqual(appended.slice(297));
    expect(tail.lastSeq).toBe(seq);
    const past = await readEvents(js, 'exec-long', { fromSeq: seq + 1 });
    // Unchained records (appended without `chain`) leave the head at the genesis link.
    expect(past).toEqual({ events: [], invalid: [], lastSeq: seq, head: '' });
  });

  it('reports a stored message that is not a valid event', async () => {
    const good = await appendEvents(js, 'exec-f', [phaseStarted('exec-f', 'p1')], 0);
    const bad = await publishJson(js, Subjects.events('exec-f'), { type: 'Bogus', execution_id: 'exec-f' });
    const read = await readEvents(js, 'exec-f');
    expect(read.events.map((e) => e.seq)).toEqual([good]);
    expect(read.invalid).toHaveLength(1);
    expect(read.invalid[0]?.seq).toBe(bad.seq);
    expect(read.invalid[0]?.issues.length).toBeGreaterThan(0);
    expect(read.lastSeq).toBe(bad.seq);
  });
});
