import type { JetStreamClient } from '@nats-io/jetstream';
import { StorageType } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets } from '@orchestra/contracts';
import {
  ClaimMissingError,
  ClaimUnreadableError,
  claimIfLarge,
  maxValueBytes,
  releaseClaim,
  resolveClaim,
} from './claim.js';
import { decode } from './codec.js';

export interface ResultsBucketOptions {
  /** Default 1. */
  replicas?: number;
}

/** Creates the `execution_results` bucket (one revision per key) or opens it when it exists. */
export function ensureResultsBucket(kvm: Kvm, options: ResultsBucketOptions = {}): Promise<KV> {
  const opts: Partial<KvOptions> = {
    history: 1,
    replicas: options.replicas ?? 1,
    storage: StorageType.File,
    description: 'Orchestra execution_results, keyed by execution id',
  };
  return kvm.create(Buckets.results, opts);
}

/** Opens the existing results bucket (reads fail if it was never provisioned). */
export function openResultsBucket(js: JetStreamClient): Promise<KV> {
  return new Kvm(js).open(Buckets.results);
}

/**
 * The largest results value kept whole: `ORCHESTRA_MAX_VALUE_BYTES` (a value larger than one
 * message goes through the payloads bucket, see claim.ts). Beyond it the results leave out their
 * largest outputs, named in `omitted`; the event log still has them.
 */
export function resultsValueLimit(_connection?: NatsConnection): number {
  return maxValueBytes();
}

/** Writes a results value (a reference to a stored copy when it is large); returns the revision. */
export async function writeResultsValue(
  js: JetStreamClient,
  kv: KV,
  executionId: string,
  value: Uint8Array,
  revision: number,
): Promise<{ revision: number; claimed?: string }> {
  const claim = await claimIfLarge(
    js,
    value,
    `results.${executionId}`,
    `the execution_results of ${executionId}`,
  );
  try {
    const written =
      revision === 0
        ? await kv.create(executionId, claim.data)
        : await kv.update(executionId, claim.data, revision);
    return { revision: written, ...(claim.claimed === undefined ? {} : { claimed: claim.claimed }) };
  } catch (error) {
    if (claim.claimed !== undefined) void releaseClaim(js, claim.claimed);
    throw error;
  }
}

/**
 * The results a bucket entry holds (its stored copy when it is a reference); null when deleted.
 * `reread` gets the entry again when the copy was replaced while it was read.
 */
export async function readResultsValue(
  js: JetStreamClient,
  entry: KvEntry | null,
  reread?: () => Promise<KvEntry | null>,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    if (entry?.operation !== 'PUT') return null;
    try {
      return decode(await resolveClaim(js, entry.value));
    } catch (error) {
      const replaced = error instanceof ClaimMissingError || error instanceof ClaimUnreadableError;
      if (!replaced || !reread || attempt >= 3) throw error;
      entry = await reread();
    }
  }
}
