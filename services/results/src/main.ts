import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type BusLogger,
  JetStreamServer,
  misplacedEvent,
  openResultsBucket,
  provisionAll,
  RethrowRpcErrors,
  type RunningService,
  resultsValueLimit,
  serviceHandle,
} from '@orchestra/bus';
import { EventRecord, Streams, Subjects } from '@orchestra/contracts';
import 'reflect-metadata';
import { ResultsProjector } from './projector.js';
import { ResultsApi } from './results.api.js';
import { ResultsController } from './results.controller.js';

const MS_NS = 1_000_000;
const DEFAULT_ACK_WAIT_MS = 30_000;
/**
 * Messages handled at once. Messages of one execution that come while its results are being
 * written go out together in its next write, so this is also the largest group of one write.
 */
export const RESULTS_CONCURRENCY = 256;

export interface ResultsOptions {
  connection: NatsConnection;
  logger: BusLogger;
  provision?: boolean;
  /** How long a delivered event may stay unacked before it is redelivered. Default 30 s. */
  ackWaitMs?: number;
  /** Executions whose fold stays in memory (ORCHESTRA_CACHED_EXECUTIONS). Default 10,000. */
  cachedExecutions?: number;
}

@Module({})
class ResultsModule {
  static forRoot(js: JetStreamClient, kv: KV, projector: ResultsProjector): DynamicModule {
    return {
      module: ResultsModule,
      controllers: [ResultsController],
      providers: [
        { provide: ResultsProjector, useValue: projector },
        { provide: ResultsApi, useValue: new ResultsApi(js, kv) },
      ],
    };
  }
}

/** Starts the results service: folds `orchestra.events.>` into the results bucket and answers queries. */
export async function startResults(options: ResultsOptions): Promise<RunningService> {
  if (options.provision !== false) await provisionAll(options.connection);
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const js = jetstream(options.connection);
  const kv = await openResultsBucket(js);
  const projector = new ResultsProjector(
    await jetstreamManager(options.connection),
    js,
    kv,
    options.logger,
    resultsValueLimit(options.connection),
    options.cachedExecutions,
  );
  const server = new JetStreamServer({
    connection: options.connection,
    queue: 'orchestra-results',
    name: 'results',
    logger: options.logger,
    bindings: {
      [Subjects.allEvents]: {
        stream: Streams.events,
        schema: EventRecord,
        // An event of execution A on B's subject is dead-lettered, never folded into A or B.
        verify: (record, subject) => misplacedEvent(record, subject),
        // Many at once, so that the events of an execution group into few writes. The handler is
        // called in delivery order and the projector folds each execution in that order.
        concurrency: RESULTS_CONCURRENCY,
        consumer: {
          durable_name: 'results',
          filter_subject: Subjects.allEvents,
          ack_wait: ackWaitMs * MS_NS,
          max_deliver: 20,
        },
      },
    },
  });
  const app = await NestFactory.createMicroservice(ResultsModule.forRoot(js, kv, projector), {
    strategy: server,
    logger: false,
  });
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'results' }, 'started');
  return serviceHandle('results', app, options.logger);
}
