import type { NatsConnection } from '@nats-io/transport-node';
import { NestFactory } from '@nestjs/core';
import {
  type BusLogger,
  type Clock,
  type ConsumerBinding,
  JetStreamServer,
  type MessageContext,
  onSubjectOf,
  provisionAll,
  RethrowRpcErrors,
  type RunningService,
  serviceHandle,
  systemClock,
  taskConsumerConfig,
} from '@orchestra/bus';
import { DispatchTask, Streams, Subjects } from '@orchestra/contracts';
import 'reflect-metadata';
import { builtinPlugin } from './builtin.js';
import { DispatcherModule } from './dispatcher.module.js';
import type { Plugin } from './plugin.js';
import { TaskRunner } from './task-runner.js';

export interface DispatcherOptions {
  connection: NatsConnection;
  logger: BusLogger;
  plugins?: readonly Plugin[];
  /** Tasks run at once per plugin. */
  concurrency?: number;
  clock?: Clock;
  provision?: boolean;
}

/**
 * Commands delivered per plugin at once, per attempt the plugin may run at once: the extra ones
 * wait for a slot, and an attempt's outcome is published while the next one runs.
 */
const DELIVERED_PER_SLOT = 4;

/** Starts a dispatcher: one competing consumer per hosted plugin on `orchestra.tasks.<plugin>`. */
export async function startDispatcher(options: DispatcherOptions): Promise<RunningService> {
  if (options.provision !== false) await provisionAll(options.connection);
  const plugins = options.plugins ?? [builtinPlugin];
  const concurrency = options.concurrency ?? 16;
  const bindings: Record<string, ConsumerBinding> = {};
  for (const plugin of plugins) bindings[Subjects.tasks(plugin.name)] = taskBinding(plugin.name, concurrency);
  const server = new JetStreamServer({
    connection: options.connection,
    bindings,
    queue: 'orchestra-dispatcher',
    name: 'dispatcher',
    logger: options.logger,
  });
  const app = await NestFactory.createMicroservice(
    DispatcherModule.forRoot({
      connection: options.connection,
      plugins,
      clock: options.clock ?? systemClock,
      logger: options.logger,
      concurrency,
    }),
    { strategy: server, logger: false },
  );
  await app.init();
  const runner = app.get(TaskRunner);
  for (const pattern of Object.keys(bindings)) {
    server.addHandler(
      pattern,
      (task: DispatchTask, ctx: { message: MessageContext }) => runner.run(task, ctx.message),
      true,
    );
  }
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  options.logger.info({ service: 'dispatcher', plugins: plugins.map((p) => p.name) }, 'started');
  return serviceHandle('dispatcher', app, options.logger);
}

function taskBinding(plugin: string, concurrency: number): ConsumerBinding {
  return {
    stream: Streams.tasks,
    schema: DispatchTask,
    // A command for plugin A on B's subject is refused rather than run on the wrong plugin.
    verify: onSubjectOf<DispatchTask>('plugin', (task) => Subjects.tasks(task.plugin)),
    concurrency: concurrency * DELIVERED_PER_SLOT,
    // The consumer every worker of the plugin shares, in whatever language (docs/workers.md).
    consumer: taskConsumerConfig(plugin, Math.max(concurrency * DELIVERED_PER_SLOT * 2, 64)),
  };
}
