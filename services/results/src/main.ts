import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type BusLogger,
  JetStreamServer,
  onSubjectOf,
  openResultsBucket,
  provisionAll,
  RethrowRpcErrors,
  type RunningService,
  resultsValueLimit,
  serviceHandle,
} from '@orchestra/bus';
import { ExecutionEvent, Streams, Subjects } from '@orchestra/contracts';
import 'reflect-metadata';
import { ResultsProjector } from './projector.js';
import { ResultsApi } from './results.api.js';
import { ResultsController } from './results.controller.js';

const SECOND_NS = 1_000_000_000;

export interface ResultsOptions {
  connection: NatsConnection;
  logger: BusLogger;
  provision?: boolean;
}

@Module({})
class ResultsModule {
  static forRoot(kv: KV, projector: ResultsProjector): DynamicModule {
    return {
      module: ResultsModule,
      controllers: [ResultsController],
      providers: [
        { provide: ResultsProjector, useValue: projector },
        { provide: ResultsApi, useValue: new ResultsApi(kv) },
      ],
    };
  }
}

/** Starts the results service: folds `orchestra.events.>` into the results bucket and answers queries. */
export async function startResults(options: ResultsOptions): Promise<RunningService> {
  if (options.provision !== false) await provisionAll(options.connection);
  const kv = await openResultsBucket(jetstream(options.connection));
  const projector = new ResultsProjector(
    await jetstreamManager(options.connection),
    kv,
    options.logger,
    resultsValueLimit(options.connection),
  );
  const server = new JetStreamServer({
    connection: options.connection,
    queue: 'orchestra-results',
    name: 'results',
    logger: options.logger,
    bindings: {
      [Subjects.allEvents]: {
        stream: Streams.events,
        schema: ExecutionEvent,
        // An event of execution A on B's subject is dead-lettered, never folded into A or B.
        verify: onSubjectOf<ExecutionEvent>('execution_id', (event) => Subjects.events(event.execution_id)),
        // One at a time: the fold needs each execution's events in order.
        concurrency: 1,
        consumer: {
          durable_name: 'results',
          filter_subject: Subjects.allEvents,
          ack_wait: 30 * SECOND_NS,
          max_deliver: 20,
        },
      },
    },
  });
  const app = await NestFactory.createMicroservice(ResultsModule.forRoot(kv, projector), {
    strategy: server,
    logger: false,
  });
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'results' }, 'started');
  return serviceHandle('results', app, options.logger);
}
