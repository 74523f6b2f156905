import { generateKeyPairSync } from 'node:crypto';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { type ExecutionEvent, Streams, Subjects } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { AuditHeaders, recordHash, signerFromKey, verifierFromKey } from './audit.js';
import { type AuditRecord, verifyChain } from './audit-chain.js';
import { connectNats } from './connection.js';
import { appendEventRecords, readAuditRecords } from './events.js';
import { provisionStreams } from './provision.js';

/**
 * The tamper-evident log against a real nats-server: records appended with the chain verify;
 * each tampering done through the JetStream API — a deleted record, an altered one, a forged one
 * with a correct link but no valid signature, an old one published again — is named.
 */
const server = useNatsServer();
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const seed = new TextDecoder().decode(createUser().getSeed());
const signer = signerFromKey(seed);
const trusted = [verifierFromKey(signer.keyId)];

beforeAll(async () => {
  nc = await connectNats({ servers: [server().url], name: 'audit-test', env: {} });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await provisionStreams(jsm);
});
afterAll(async () => {
  await nc?.close();
});

const phase = (execution_id: string, phase_id: string): ExecutionEvent => ({
  type: 'PhaseStarted',
  execution_id,
  at: 1,
  phase_id,
});

/** Five records of one event each, chained and signed; returns what was stored. */
async function signedLog(id: string): Promise<AuditRecord[]> {
  let after = { seq: 0, head: '' };
  for (const phaseId of ['a', 'b', 'c', 'd', 'e']) {
    after = await appendEventRecords(js, id, [phase(id, phaseId)], after.seq, {
      chain: { prev: after.head, signer },
    });
  }
  return readAuditRecords(jsm, id);
}

/** Publishes raw bytes with the given audit headers on the execution's subject. */
async function publishRaw(
  id: string,
  payload: string,
  fields: Partial<Record<keyof typeof AuditHeaders, string>>,
) {
  const h = headers();
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) h.set(AuditHeaders[name as keyof typeof AuditHeaders], value);
  return js.publish(Subjects.events(id), new TextEncoder().encode(payload), { headers: h });
}

describe('the hash chain of an execution', () => {
  it('verifies a log appended with it, every signature checked against the trusted key', async () => {
    const records = await signedLog('audit-ok');
    expect(records).toHaveLength(5);
    expect(records[0]?.prev).toBe('');
    const verdict = verifyChain('audit-ok', records, trusted);
    expect(verdict).toMatchObject({ ok: true, records: 5, signatures_verified: 5, signatures_checked: true });
    expect(verdict.head).toBe(records[4]?.hash);
    // Without a trusted key only the chain is checked, and it says so.
    expect(verifyChain('audit-ok', records)).toMatchObject({
      ok: true,
      signatures_checked: false,
      signatures_verified: 0,
    });
  });

  it('names the record after a deleted one', async () => {
    const records = await signedLog('audit-deleted');
    await jsm.streams.deleteMessage(Streams.events, records[2]?.seq as number);
    const verdict = verifyChain('audit-deleted', await readAuditRecords(jsm, 'audit-deleted'), trusted);
    expect(verdict.first_problem).toEqual({
      seq: records[3]?.seq,
      index: 2,
      problem: 'a record before it is missing (deleted), or this one was inserted',
    });
  });

  it('names a forged record with a correct link but no valid signature', async () => {
    const records = await signedLog('audit-forged');
    const last = records[4] as AuditRecord;
    const payload = JSON.stringify([phase('audit-forged', 'forged')]);
    const hash = recordHash(last.hash as string, 'audit-forged', new TextEncoder().encode(payload));
    const ack = await publishRaw('audit-forged', payload, { prev: last.hash, hash });
    const unsigned = verifyChain('audit-forged', await readAuditRecords(jsm, 'audit-forged'), trusted);
    expect(unsigned.first_problem).toEqual({
      seq: ack.seq,
      index: 5,
      problem: 'unsigned: not appended by a holder of the signing key',
    });
    // Signed by another key that claims to be the trusted one.
    const intruder = signerFromKey(new TextDecoder().decode(createUser().getSeed()));
    await jsm.streams.deleteMessage(Streams.events, ack.seq);
    const claimed = await publishRaw('audit-forged', payload, {
      prev: last.hash,
      hash,
      signature: intruder.sign(hash),
      key: signer.keyId,
    });
    const forged = verifyChain('audit-forged', await readAuditRecords(jsm, 'audit-forged'), trusted);
    expect(forged.first_problem).toEqual({
      seq: claimed.seq,
      index: 5,
      problem: 'forged: its signature does not verify',
    });
  });

  it('names an old record published again, and an altered one', async () => {
    const records = await signedLog('audit-replayed');
    const old = records[1] as AuditRecord;
    const again = await publishRaw('audit-replayed', old.payload, {
      prev: old.prev,
      hash: old.hash,
      signature: old.signature,
      key: old.key,
    });
    const replayed = verifyChain('audit-replayed', await readAuditRecords(jsm, 'audit-replayed'), trusted);
    expect(replayed.first_problem).toEqual({
      seq: again.seq,
      index: 5,
      problem: `re-published: a copy of the record at sequence ${old.seq}`,
    });
    await jsm.streams.deleteMessage(Streams.events, again.seq);
    const last = records[4] as AuditRecord;
    const altered = await publishRaw('audit-replayed', JSON.stringify([phase('audit-replayed', 'zz')]), {
      prev: last.hash,
      hash: last.hash,
      signature: last.signature,
      key: last.key,
    });
    const verdict = verifyChain('audit-replayed', await readAuditRecords(jsm, 'audit-replayed'), trusted);
    expect(verdict.first_problem).toEqual({
      seq: altered.seq,
      index: 5,
      problem: 'altered: its content (or its link) does not match its hash',
    });
  });
});

describe('signing keys', () => {
  it('signs with an nkey seed or a PEM Ed25519 key; verifies with the public half in any form', () => {
    const hash = 'ab'.repeat(32);
    const fromSeed = signerFromKey(seed);
    expect(fromSeed.keyId).toMatch(/^U[A-Z2-7]{55}$/);
    expect(verifierFromKey(fromSeed.keyId).verify(hash, fromSeed.sign(hash))).toBe(true);
    expect(verifierFromKey(seed).verify(hash, fromSeed.sign(hash))).toBe(true);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = signerFromKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(pem.keyId).toMatch(/^ed25519:[A-Za-z0-9_-]{43}$/);
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifierFromKey(pub).verify(hash, pem.sign(hash))).toBe(true);
    expect(verifierFromKey(pem.keyId).verify(hash, pem.sign(hash))).toBe(true);
    expect(verifierFromKey(pub).verify(hash, fromSeed.sign(hash))).toBe(false);
    expect(verifierFromKey(pub).verify('cd'.repeat(32), pem.sign(hash))).toBe(false);
  });

  it('refuses keys that are not Ed25519, with a clear message', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => signerFromKey(rsa)).toThrow('the private key is rsa, not Ed25519');
    expect(() => signerFromKey('not a key')).toThrow(
      'the signing key must be an nkey seed (S…) or a PEM Ed25519 private key',
    );
    expect(() => verifierFromKey('nope')).toThrow(/the public key must be/);
  });
});
