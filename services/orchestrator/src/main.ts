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
import { readEnvironment, envVariable as variable } from '@orchestra/contracts';
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
  /** Executions whose fold stays in memory (ORCHESTRA_CACHED_EXECUTIONS). Default 10,000. */
  cachedExecutions?: number;
  /** ORCHESTRA_SIGNING_KEY: an nkey seed or PEM Ed25519 key that signs each record (docs/audit.md). */
  signingKey?: string | undefined;
}

/** The orchestrator's own variables (README, "Configuration"). */
export const ORCHESTRATOR_ENVIRONMENT = {
  ORCHESTRATOR_ACK_WAIT_MS: variable.integer(
    "ack wait of the orchestrator's consumers: how long a crashed replica's inputs wait (ms)",
    // The keep-alives run at a third of the ack wait: below a second they would crowd the bus.
    { min: 1_000, max: 300_000, unit: 'ms' },
    ORCHESTRATOR_ACK_WAIT_MS,
  ),
  ORCHESTRA_SIGNING_KEY: variable.text(
    'nkey seed or PEM Ed25519 key that signs each record (orchestra up: a local key in .orchestra/)',
  ),
} as const;

/** The orchestrator's settings from its variables (see ORCHESTRATOR_ENVIRONMENT). */
export function orchestratorSettings(env: Readonly<Record<string, string | undefined>>) {
  const values = readEnvironment(ORCHESTRATOR_ENVIRONMENT, env);
  const signingKey = values.ORCHESTRA_SIGNING_KEY;
  // Read now, so that a bad key stops start-up with a clear message instead of the first append.
  if (signingKey) signerFromKey(signingKey);
  return { ackWaitMs: values.ORCHESTRATOR_ACK_WAIT_MS, ...(signingKey ? { signingKey } : {}) };
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
      ...(options.cachedExecutions === undefined ? {} : { cachedExecutions: options.cachedExecutions }),
    }),
    { strategy: server, logger: false },
  );
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'orchestrator' }, 'started');
  return serviceHandle('orchestrator', app, options.logger);
}
