import type { JetStreamClient } from '@nats-io/jetstream';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { nuid } from '@nats-io/transport-node';
import { type Env, envVariable, LIMITS, readEnvironment, ValidationError } from '@orchestra/contracts';

/**
 * The claim check (README, "Large values"): a message, event record or results value larger than
 * one NATS message is stored in the object store bucket `orchestra_payloads` and replaced on the
 * bus by a small reference, `{"$claim":{"name":...,"bytes":...}}`. Every reader in libs/bus
 * resolves the reference before it parses and validates, so the contracts' schemas and the decider
 * never see it. Above `ORCHESTRA_MAX_VALUE_BYTES` (default 64 MiB) a value is refused with a clear
 * error instead.
 */
export const PAYLOADS_BUCKET = 'orchestra_payloads';
/** The stream behind the bucket (the object store's own naming). */
export const PAYLOADS_STREAM = `OBJ_${PAYLOADS_BUCKET}`;
export const DEFAULT_MAX_VALUE_BYTES = LIMITS.valueBytes;
/** Room left under max_payload for headers (msg id, expected sequence, trace context, KV). */
const HEADER_ROOM_BYTES = 16 * 1024;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface ClaimSettings {
  /** Largest value kept whole through a claim (`ORCHESTRA_MAX_VALUE_BYTES`). */
  maxValueBytes: number;
  /** Values above this go through the object store (`ORCHESTRA_CLAIM_FROM_BYTES`; default: what fits in one message). */
  claimFromBytes?: number;
}

/** The claim check's variables (README, "Configuration"). */
export const CLAIM_ENVIRONMENT = {
  ORCHESTRA_MAX_VALUE_BYTES: envVariable.integer(
    'largest value (a plan, an output, a results value) kept whole, through the object store past one message',
    { min: 1024, max: 2 ** 40, unit: 'bytes' },
    DEFAULT_MAX_VALUE_BYTES,
  ),
  ORCHESTRA_CLAIM_FROM_BYTES: envVariable.optionalInteger(
    'values above this go through the object store',
    { min: 1024, max: 2 ** 40, unit: 'bytes' },
    'max_payload − 16 KiB',
  ),
} as const;

/** The claim settings of an environment (a ValidationError lists every problem). */
export function claimSettingsFromEnv(env: Env = process.env): ClaimSettings {
  const values = readEnvironment(CLAIM_ENVIRONMENT, env);
  const settings: ClaimSettings = { maxValueBytes: values.ORCHESTRA_MAX_VALUE_BYTES };
  if (values.ORCHESTRA_CLAIM_FROM_BYTES !== undefined)
    settings.claimFromBytes = values.ORCHESTRA_CLAIM_FROM_BYTES;
  return settings;
}

/** Read once, lazily: a process with a bad value fails where it first uses a claim, and start-up lists it. */
let settings: ClaimSettings | undefined;
const current = (): ClaimSettings => {
  settings ??= claimSettingsFromEnv();
  return settings;
};

/** Changes the limits of this process (tests; the services read the environment). */
export function configureClaims(next: Partial<ClaimSettings>): void {
  settings = { ...current(), ...next };
}

export function maxValueBytes(): number {
  return current().maxValueBytes;
}

interface Connected {
  nc?: { info?: { max_payload: number } | undefined };
}

/** The size above which a value of this connection goes through the object store. */
export function claimFromBytes(js: JetStreamClient): number {
  const maxPayload = (js as Connected).nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  return Math.min(current().claimFromBytes ?? Number.POSITIVE_INFINITY, maxPayload - HEADER_ROOM_BYTES);
}

const stores = new WeakMap<JetStreamClient, Promise<ObjectStore>>();

/** The payloads bucket, opened once per client (provisioning creates it). */
export function payloadStore(js: JetStreamClient): Promise<ObjectStore> {
  let store = stores.get(js);
  if (!store) {
    store = new Objm(js).open(PAYLOADS_BUCKET);
    store.catch(() => stores.delete(js));
    stores.set(js, store);
  }
  return store;
}

const PREFIX = '{"$claim":';
const prefixBytes = new TextEncoder().encode(PREFIX);
const utf8 = new TextEncoder();

export interface ClaimReference {
  $claim: { name: string; bytes: number };
}

/** The reference in `data`, if `data` is one (a cheap prefix test first: payloads are large). */
export function claimReference(data: Uint8Array): ClaimReference['$claim'] | undefined {
  if (data.length > 1024 || data.length < prefixBytes.length) return undefined;
  for (let i = 0; i < prefixBytes.length; i++) if (data[i] !== prefixBytes[i]) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as Partial<ClaimReference>;
    const claim = parsed.$claim;
    if (claim && typeof claim.name === 'string' && typeof claim.bytes === 'number') return claim;
  } catch {
    // not a reference after all: the reader's own parse reports it
  }
  return undefined;
}

/**
 * `data` as it goes on the bus: itself when it fits in one message, else a reference to a copy
 * in the payloads bucket named `<prefix>.<nuid>`. `what` names the value in the error beyond the limit.
 */
export async function claimIfLarge(
  js: JetStreamClient,
  data: Uint8Array,
  prefix: string,
  what: string,
): Promise<{ data: Uint8Array; claimed?: string }> {
  if (data.length <= claimFromBytes(js)) return { data };
  if (data.length > maxValueBytes()) {
    throw new ValidationError(`${what} is ${data.length} bytes; the limit is ${maxValueBytes()}`, [
      { path: '(root)', message: `larger than ORCHESTRA_MAX_VALUE_BYTES (${maxValueBytes()})` },
    ]);
  }
  const name = `${prefix}.${nuid.next()}`;
  await (await payloadStore(js)).putBlob({ name }, data);
  const reference: ClaimReference = { $claim: { name, bytes: data.length } };
  return { data: utf8.encode(JSON.stringify(reference)), claimed: name };
}

/** The value `data` stands for: the stored copy when it is a reference, else `data` itself. */
export async function resolveClaim(js: JetStreamClient, data: Uint8Array): Promise<Uint8Array> {
  const claim = claimReference(data);
  if (!claim) return data;
  if (claim.bytes > maxValueBytes()) {
    throw new ValidationError(`a claimed value of ${claim.bytes} bytes is over the limit`, [
      { path: '$claim.bytes', message: `larger than ORCHESTRA_MAX_VALUE_BYTES (${maxValueBytes()})` },
    ]);
  }
  const blob = await readObject(await payloadStore(js), claim.name);
  if (blob === null) throw new ClaimMissingError(claim.name);
  return blob;
}

/** Longest pause between two chunks of a stored value before reading it is given up. */
const CHUNK_IDLE_MS = 5_000;

/**
 * The object's bytes, or null when it is gone. Unlike nats.js's getBlob it never waits for ever:
 * an object deleted between its metadata and its chunks (a results value replaced meanwhile)
 * leaves the reader waiting for chunks that will not come, so a pause longer than CHUNK_IDLE_MS
 * throws ClaimUnreadableError (the caller reads the reference again, or redelivers).
 */
async function readObject(store: ObjectStore, name: string): Promise<Uint8Array | null> {
  const result = await store.get(name);
  if (result === null) return null;
  const reader = result.data.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClaimUnreadableError(name)), CHUNK_IDLE_MS);
      });
      const next = await Promise.race([reader.read(), idle]).finally(() => clearTimeout(timer));
      if (next.done) break;
      chunks.push(next.value);
      size += next.value.length;
    }
    const error = await result.error;
    if (error) throw error;
  } catch (error) {
    void reader.cancel().catch(() => undefined);
    throw error;
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, size);
}

/** A stored value that stopped arriving part-way: replaced or deleted while it was read, or an outage. */
export class ClaimUnreadableError extends Error {
  constructor(name: string) {
    super(`the stored value ${name} stopped arriving (replaced while read, or the server is away)`);
    this.name = 'ClaimUnreadableError';
  }
}

/** The object a reference names is gone: past the bucket's retention, or never stored. */
export class ClaimMissingError extends ValidationError {
  constructor(name: string) {
    super(`the stored value ${name} is missing (past the payloads' retention, or never stored)`, [
      { path: '$claim.name', message: 'no such object in the payloads bucket' },
    ]);
  }
}

/** Deletes a claimed copy nobody will read again; a failure leaves it to the bucket's retention. */
export async function releaseClaim(js: JetStreamClient, name: string): Promise<void> {
  try {
    await (await payloadStore(js)).delete(name);
  } catch {
    // retention removes it
  }
}
