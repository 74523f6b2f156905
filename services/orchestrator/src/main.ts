import type { NatsConnection } from '@nats-io/transport-node';
import { NestFactory } from '@nestjs/core';
import {
  type BusLogger,
  type Clock,
  JetStreamServer,
  provisionAll,
  RethrowRpcErrors,
  type RunningService,
  serviceHandle,
  signerFromKey,
  systemClock,
} from '@orchestra/bus';
import 'reflect-metadata';
import { ORCHESTRATOR_ACK_WAIT_MS, orchestratorBindings } from './bindings.js';
import { OrchestratorModule } from './orchestrator.module.js';

export interface OrchestratorOptions {
  connection: NatsConnection;
  logger: BusLogger;
  clock?: Clock;
  concurrency?: number;
  /** Ack wait of the orchestrator's consumers: how long a crashed replica's inputs wait. Default 3 s. */
  ackWaitMs?: number;
  provision?: boolean;
  /** ORCHESTRA_SIGNING_KEY: an nkey seed or PEM Ed25519 key that signs each record (docs/audit.md). */
  signingKey?: string | undefined;
}

/** The keep-alives run at a third of the ack wait: below a second they would crowd the bus. */
const MIN_ACK_WAIT_MS = 1_000;
const MAX_ACK_WAIT_MS = 300_000;

/** `ORCHESTRATOR_ACK_WAIT_MS` (default 3000): the ack wait of the orchestrator's consumers. */
export function orchestratorSettings(env: Readonly<Record<string, string | undefined>>) {
  const text = env.ORCHESTRATOR_ACK_WAIT_MS?.trim() ?? '';
  const ackWaitMs = text === '' ? ORCHESTRATOR_ACK_WAIT_MS : Number(text);
  if (!Number.isInteger(ackWaitMs) || ackWaitMs < MIN_ACK_WAIT_MS || ackWaitMs > MAX_ACK_WAIT_MS) {
    throw new Error(
      `ORCHESTRATOR_ACK_WAIT_MS must be an integer from ${MIN_ACK_WAIT_MS} to ${MAX_ACK_WAIT_MS} (ms), got ${env.ORCHESTRATOR_ACK_WAIT_MS}`,
    );
  }
  const signingKey = env.ORCHESTRA_SIGNING_KEY?.trim() || undefined;
  // Read now, so that a bad key stops start-up with a clear message instead of the first append.
  if (signingKey) signerFromKey(signingKey);
  return { ackWaitMs, ...(signingKey ? { signingKey } : {}) };
}

/** Starts one orchestrator replica on an open NATS connection. */
export async function startOrchestrator(options: OrchestratorOptions): Promise<RunningService> {
  if (options.provision !== false) await provisionAll(options.connection);
  const server = new JetStreamServer({
    connection: options.connection,
    bindings: orchestratorBindings({
      concurrency: options.concurrency ?? 32,
      ...(options.ackWaitMs === undefined ? {} : { ackWaitMs: options.ackWaitMs }),
      now: () => (options.clock ?? systemClock).now(),
    }),
    queue: 'orchestra-orchestrator',
    name: 'orchestrator',
    logger: options.logger,
  });
  const app = await NestFactory.createMicroservice(
    OrchestratorModule.forRoot({
      connection: options.connection,
      clock: options.clock ?? systemClock,
      logger: options.logger,
      signer: options.signingKey ? signerFromKey(options.signingKey) : undefined,
    }),
    { strategy: server, logger: false },
  );
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'orchestrator' }, 'started');
  return serviceHandle('orchestrator', app, options.logger);
}
