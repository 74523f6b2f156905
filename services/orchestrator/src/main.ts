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
  systemClock,
} from '@orchestra/bus';
import 'reflect-metadata';
import { orchestratorBindings } from './bindings.js';
import { OrchestratorModule } from './orchestrator.module.js';

export interface OrchestratorOptions {
  connection: NatsConnection;
  logger: BusLogger;
  clock?: Clock;
  concurrency?: number;
  provision?: boolean;
}

/** Starts one orchestrator replica on an open NATS connection. */
export async function startOrchestrator(options: OrchestratorOptions): Promise<RunningService> {
  if (options.provision !== false) await provisionAll(options.connection);
  const server = new JetStreamServer({
    connection: options.connection,
    bindings: orchestratorBindings({
      concurrency: options.concurrency ?? 32,
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
    }),
    { strategy: server, logger: false },
  );
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'orchestrator' }, 'started');
  return serviceHandle('orchestrator', app, options.logger);
}
