import type { JetStreamClient } from '@nats-io/jetstream';
import { StorageType } from '@nats-io/jetstream';
import { type KV, Kvm, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Buckets } from '@orchestra/contracts';

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

/** The largest results value a server accepts: its max_payload less room for the KV headers. */
export function resultsValueLimit(connection: NatsConnection): number {
  return (connection.info?.max_payload ?? 1024 * 1024) - 16 * 1024;
}
