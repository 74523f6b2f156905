import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { AuditHeaders, readAuditRecords, recordHash } from '@orchestra/bus';
import { Subjects } from '@orchestra/contracts';

/**
 * What someone with access to the JetStream API (a NATS admin) can do to the stored log and the
 * queues, for the tests of docs/audit.md: each is done through the real API, nothing is faked.
 */

/** Deletes the message stored under `msgId` in `stream` (read by sequence: no consumer); true when found. */
export async function deleteByMsgId(jsm: JetStreamManager, stream: string, msgId: string): Promise<boolean> {
  const info = await jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg?.header?.get('Nats-Msg-Id') === msgId) return jsm.streams.deleteMessage(stream, seq);
  }
  return false;
}

/** Publishes raw bytes on the execution's subject with the given audit headers; returns the stream sequence. */
export async function publishRecord(
  js: JetStreamClient,
  executionId: string,
  payload: string,
  fields: Partial<Record<keyof typeof AuditHeaders, string | undefined>>,
): Promise<number> {
  const h = headers();
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) h.set(AuditHeaders[name as keyof typeof AuditHeaders], value);
  return (await js.publish(Subjects.events(executionId), new TextEncoder().encode(payload), { headers: h }))
    .seq;
}

/**
 * Appends a well-formed record that links correctly to the last one and carries a correct hash,
 * but no signature: what someone without the signing key can write. Returns its sequence.
 */
export async function appendForgedRecord(
  js: JetStreamClient,
  jsm: JetStreamManager,
  executionId: string,
): Promise<number> {
  const last = (await readAuditRecords(jsm, executionId)).at(-1);
  const payload = JSON.stringify([
    { type: 'PhaseStarted', execution_id: executionId, at: Date.now(), phase_id: 'forged' },
  ]);
  const hash = recordHash(last?.hash ?? '', executionId, new TextEncoder().encode(payload));
  return publishRecord(js, executionId, payload, { prev: last?.hash, hash });
}

/** Publishes the execution's `index`-th record again, headers and all (a replay). Returns its new sequence. */
export async function republishRecord(
  js: JetStreamClient,
  jsm: JetStreamManager,
  executionId: string,
  index: number,
): Promise<{ seq: number; original: number }> {
  const old = (await readAuditRecords(jsm, executionId))[index];
  if (!old) throw new Error(`execution ${executionId} has no record ${index}`);
  const { payload, prev, hash, signature, key } = old;
  return {
    seq: await publishRecord(js, executionId, payload, { prev, hash, signature, key }),
    original: old.seq,
  };
}

/** Deletes the execution's `index`-th record; returns the sequence of the record after it. */
export async function deleteRecord(
  jsm: JetStreamManager,
  stream: string,
  executionId: string,
  index: number,
): Promise<number> {
  const records = await readAuditRecords(jsm, executionId);
  const victim = records[index];
  const next = records[index + 1];
  if (!victim || !next) throw new Error(`execution ${executionId} has no records ${index} and ${index + 1}`);
  await jsm.streams.deleteMessage(stream, victim.seq);
  return next.seq;
}
