import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import {
  type BusLogger,
  CLOCK,
  type Clock,
  LOGGER,
  maxRecordBytes,
  NATS_CONNECTION,
  type RecordSigner,
  unservedPlugins,
} from '@orchestra/bus';
import { OrchestraMetrics, orchestraMetrics } from '@orchestra/observability';
import { ApiService } from './api.service.js';
import { DeadLetterKeeper } from './dead-letter-keeper.js';
import { EffectPublisher } from './effect-publisher.js';
import { ExecutionStore } from './execution-store.js';
import { HandleInputHandler } from './handle-input.command.js';
import { OrchestratorController } from './orchestrator.controller.js';
import { Orchestrator } from './orchestrator.js';

const JETSTREAM = Symbol('JETSTREAM');
const JETSTREAM_MANAGER = Symbol('JETSTREAM_MANAGER');

export interface OrchestratorModuleOptions {
  connection: NatsConnection;
  clock: Clock;
  logger: BusLogger;
  /** Signs the head of every record appended (docs/audit.md); unsigned records without it. */
  signer?: RecordSigner | undefined;
  /** Executions whose fold the store keeps in memory (ORCHESTRA_CACHED_EXECUTIONS). */
  cachedExecutions?: number;
}

@Module({})
export class OrchestratorModule {
  static forRoot(options: OrchestratorModuleOptions): DynamicModule {
    return {
      module: OrchestratorModule,
      imports: [CqrsModule.forRoot()],
      controllers: [OrchestratorController],
      providers: [
        { provide: NATS_CONNECTION, useValue: options.connection },
        { provide: CLOCK, useValue: options.clock },
        { provide: LOGGER, useValue: options.logger },
        { provide: OrchestraMetrics, useFactory: orchestraMetrics },
        { provide: JETSTREAM, useFactory: (nc: NatsConnection) => jetstream(nc), inject: [NATS_CONNECTION] },
        {
          provide: JETSTREAM_MANAGER,
          useFactory: (nc: NatsConnection) => jetstreamManager(nc),
          inject: [NATS_CONNECTION],
        },
        {
          provide: ExecutionStore,
          useFactory: (nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, logger: BusLogger) =>
            new ExecutionStore(js, jsm, logger, {
              maxRecordBytes: maxRecordBytes(nc),
              ...(options.cachedExecutions === undefined ? {} : { capacity: options.cachedExecutions }),
              ...(options.signer ? { signer: options.signer } : {}),
            }),
          inject: [NATS_CONNECTION, JETSTREAM, JETSTREAM_MANAGER, LOGGER],
        },
        {
          provide: EffectPublisher,
          useFactory: (nc: NatsConnection, js: JetStreamClient) => new EffectPublisher(nc, js),
          inject: [NATS_CONNECTION, JETSTREAM],
        },
        {
          provide: Orchestrator,
          useFactory: (store: ExecutionStore, effects: EffectPublisher, clock: Clock, logger: BusLogger) =>
            new Orchestrator(store, effects, clock, logger),
          inject: [ExecutionStore, EffectPublisher, CLOCK, LOGGER],
        },
        {
          provide: ApiService,
          useFactory: (
            nc: NatsConnection,
            js: JetStreamClient,
            jsm: JetStreamManager,
            store: ExecutionStore,
          ) => new ApiService(js, jsm, store, (plugins) => unservedPlugins(nc, plugins)),
          inject: [NATS_CONNECTION, JETSTREAM, JETSTREAM_MANAGER, ExecutionStore],
        },
        {
          provide: DeadLetterKeeper,
          useFactory: (
            nc: NatsConnection,
            js: JetStreamClient,
            jsm: JetStreamManager,
            clock: Clock,
            logger: BusLogger,
          ) => new DeadLetterKeeper(nc, js, jsm, clock, logger),
          inject: [NATS_CONNECTION, JETSTREAM, JETSTREAM_MANAGER, CLOCK, LOGGER],
        },
        HandleInputHandler,
      ],
    };
  }
}
