import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { INestMicroservice } from '@nestjs/common';
import type { BusLogger } from './logger.js';
import { type ProvisionEverythingOptions, provisionEverything, retentionFromEnv } from './retention.js';
import { within } from './within.js';

/** Injection tokens shared by the services: tests replace the clock, never the broker. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const CLOCK = Symbol('CLOCK');
export const LOGGER = Symbol('LOGGER');

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Creates the streams, the results bucket and the payloads object store if they are missing, and
 * brings their replicas and retention (default: the ORCHESTRA_*_MAX_* variables) up to date.
 * Idempotent; every service may call it.
 */
export async function provisionAll(
  nc: NatsConnection,
  options: ProvisionEverythingOptions = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await provisionEverything(jsm, { ...options, retention: options.retention ?? retentionFromEnv() });
}

/** A started service: its Nest app and how to stop it (drain in-flight work, then close). */
export interface RunningService {
  name: string;
  app: INestMicroservice;
  stop(): Promise<void>;
}

/**
 * How long a service's stop waits for its work in flight (handlers, their publishes) before it
 * gives up on it: a message not settled by then comes back after its ack wait. Together with the
 * connection's bounded close (closeConnection) a stopping process exits within 10 s whatever the
 * state of NATS (README, "Stopping").
 */
export const STOP_TIMEOUT_MS = 5_000;

export interface ServiceHandleOptions {
  /** Runs first (the dispatcher hands its running attempts back). */
  beforeClose?: () => void;
  timeoutMs?: number;
}

export function serviceHandle(
  name: string,
  app: INestMicroservice,
  logger: BusLogger,
  options: ServiceHandleOptions = {},
): RunningService {
  let stopping: Promise<void> | undefined;
  return {
    name,
    app,
    stop() {
      stopping ??= (async () => {
        options.beforeClose?.();
        const finished = await within(app.close(), options.timeoutMs ?? STOP_TIMEOUT_MS);
        if (finished) logger.info({ service: name }, 'stopped');
        else
          logger.warn(
            { service: name, waitedMs: options.timeoutMs ?? STOP_TIMEOUT_MS },
            'stopped without waiting for the work still in flight: its messages come back after their ack wait',
          );
      })();
      return stopping;
    },
  };
}

/** How long closeConnection lets a drain flush before it closes the connection outright. */
export const DRAIN_TIMEOUT_MS = 2_000;

/**
 * Drains a connection (flushes what was published, answers in flight) for at most `timeoutMs`,
 * then closes it: with NATS unreachable a drain never ends on its own.
 */
export async function closeConnection(nc: NatsConnection, timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  if (nc.isClosed()) return;
  await within(
    nc.drain().catch(() => undefined),
    timeoutMs,
  );
  if (!nc.isClosed())
    await within(
      nc.close().catch(() => undefined),
      500,
    );
}
