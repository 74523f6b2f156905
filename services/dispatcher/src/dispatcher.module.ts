import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type BusLogger, CLOCK, type Clock, LOGGER, NATS_CONNECTION } from '@orchestra/bus';
import type { Plugin } from './plugin.js';
import { TaskRunner } from './task-runner.js';

export const PLUGINS = Symbol('PLUGINS');

export interface DispatcherModuleOptions {
  connection: NatsConnection;
  plugins: readonly Plugin[];
  clock: Clock;
  logger: BusLogger;
  /** Attempts run at once per plugin. */
  concurrency: number;
  redact: (text: string) => string;
}

/** Hosts the task runner; its consumers are bound per plugin by startDispatcher. */
@Module({})
export class DispatcherModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(TaskRunner) private readonly runner: TaskRunner) {}

  static forRoot(options: DispatcherModuleOptions): DynamicModule {
    return {
      module: DispatcherModule,
      providers: [
        { provide: NATS_CONNECTION, useValue: options.connection },
        { provide: CLOCK, useValue: options.clock },
        { provide: LOGGER, useValue: options.logger },
        { provide: PLUGINS, useValue: new Map(options.plugins.map((plugin) => [plugin.name, plugin])) },
        {
          provide: TaskRunner,
          useFactory: (nc: NatsConnection, plugins: Map<string, Plugin>, clock: Clock, logger: BusLogger) =>
            new TaskRunner(nc, jetstream(nc), plugins, clock, logger, options.concurrency, options.redact),
          inject: [NATS_CONNECTION, PLUGINS, CLOCK, LOGGER],
        },
      ],
      exports: [TaskRunner],
    };
  }

  onModuleInit(): void {
    this.runner.listenForCancels();
  }

  onApplicationShutdown(): void {
    this.runner.stop();
  }
}
