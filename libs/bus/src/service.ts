import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { INestMicroservice } from '@nestjs/common';
import { ensureResultsBucket } from './kv.js';
import type { BusLogger } from './logger.js';
import { type ProvisionOptions, provisionStreams } from './provision.js';

/** Injection tokens shared by the services: tests replace the clock, never the broker. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const CLOCK = Symbol('CLOCK');
export const LOGGER = Symbol('LOGGER');

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Creates the streams and the results bucket if they are missing (idempotent; every service may call it). */
export async function provisionAll(nc: NatsConnection, options: ProvisionOptions = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await provisionStreams(jsm, options);
  await ensureResultsBucket(new Kvm(jetstream(nc)), { replicas: options.replicas ?? 1 });
}

/** A started service: its Nest app and how to stop it (drain in-flight work, then close). */
export interface RunningService {
  name: string;
  app: INestMicroservice;
  stop(): Promise<void>;
}

export function serviceHandle(name: string, app: INestMicroservice, logger: BusLogger): RunningService {
  let stopping: Promise<void> | undefined;
  return {
    name,
    app,
    stop() {
      stopping ??= app.close().then(() => logger.info({ service: name }, 'stopped'));
      return stopping;
    },
  };
}
