import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';

/** How long one readiness check or lag lookup may wait for NATS. */
export const NATS_CHECK_TIMEOUT_MS = 2_000;

export interface ConsumerRef {
  stream: string;
  durable: string;
}

/** A service running in this process, as its health and consumer lag are checked. */
export interface WatchedService {
  name: string;
  connection: NatsConnection;
  consumers: readonly ConsumerRef[];
}

interface Entry extends WatchedService {
  jsm?: JetStreamManager;
}

const running = new Set<Entry>();

/**
 * Registers a started service (its NATS transport does, once its consumers are bound) for the
 * readiness check and the consumer lag metrics. Returns the function that unregisters it.
 */
export function watchService(service: WatchedService): () => void {
  const entry: Entry = { ...service, consumers: [...service.consumers] };
  running.add(entry);
  return () => {
    running.delete(entry);
  };
}

export function watchedServices(): readonly WatchedService[] {
  return [...running];
}

export interface ServiceReadiness {
  name: string;
  ready: boolean;
  nats: string;
  jetstream: string;
  consumers: Record<string, string>;
  error?: string;
}

/**
 * Ready: the connection is up (a round trip to the server answers), JetStream answers an
 * account-info request, and every consumer the service pulls from still exists.
 */
export async function checkService(service: WatchedService): Promise<ServiceReadiness> {
  const result: ServiceReadiness = {
    name: service.name,
    ready: false,
    nats: 'unknown',
    jetstream: 'unknown',
    consumers: {},
  };
  try {
    if (!(await connected(service))) {
      result.nats = 'disconnected';
      throw new Error(service.connection.isClosed() ? 'connection closed' : 'not connected to NATS');
    }
    result.nats = 'connected';
    const jsm = await managerOf(service);
    await withTimeout(jsm.getAccountInfo(), 'JetStream account info');
    result.jetstream = 'reachable';
    for (const consumer of service.consumers) {
      await withTimeout(
        jsm.consumers.info(consumer.stream, consumer.durable),
        `consumer ${consumer.durable}`,
      );
      result.consumers[consumer.durable] = 'bound';
    }
    result.ready = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}

/** Consumer lag gauges, read from the server at scrape time (a lookup that fails is left out). */
export function consumerLag(registry: Registry): void {
  const labelNames = ['stream', 'consumer'] as const;
  const pending = new Gauge({
    name: 'orchestra_consumer_pending_messages',
    help: 'Messages of a durable consumer not delivered yet (num_pending)',
    labelNames,
    registers: [registry],
  });
  const ackPending = new Gauge({
    name: 'orchestra_consumer_ack_pending_messages',
    help: 'Messages of a durable consumer delivered but not acknowledged yet (num_ack_pending)',
    labelNames,
    registers: [registry],
  });
  new Gauge({
    name: 'orchestra_consumer_lag_messages',
    help: 'Lag of a durable consumer: num_pending + num_ack_pending',
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      pending.reset();
      ackPending.reset();
      const seen = new Set<string>();
      const lookups = [...running].map(async (service) => {
        // A disconnected service answers the scrape at once, without its lag.
        if (!(await connected(service))) return;
        const jsm = await managerOf(service);
        await Promise.all(
          service.consumers.map(async (consumer) => {
            const key = `${consumer.stream}/${consumer.durable}`;
            if (seen.has(key)) return;
            seen.add(key);
            const info = await withTimeout(jsm.consumers.info(consumer.stream, consumer.durable), key).catch(
              () => undefined,
            );
            if (!info) return;
            const labels = { stream: consumer.stream, consumer: consumer.durable };
            pending.set(labels, info.num_pending);
            ackPending.set(labels, info.num_ack_pending);
            this.set(labels, info.num_pending + info.num_ack_pending);
          }),
        );
      });
      await Promise.allSettled(lookups);
    },
  });
}

/** A round trip to the server: fails at once while the connection is down. */
async function connected(service: WatchedService): Promise<boolean> {
  if (service.connection.isClosed()) return false;
  try {
    await withTimeout(service.connection.rtt(), 'NATS round trip');
    return true;
  } catch {
    return false;
  }
}

async function managerOf(entry: Entry): Promise<JetStreamManager> {
  entry.jsm ??= await jetstreamManager(entry.connection, { timeout: NATS_CHECK_TIMEOUT_MS, checkAPI: false });
  return entry.jsm;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${NATS_CHECK_TIMEOUT_MS} ms`)),
      NATS_CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
