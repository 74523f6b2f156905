import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { NestFactory } from '@nestjs/core';
import {
  announceWorker,
  type BusLogger,
  type Clock,
  type ConsumerBinding,
  errorFields,
  JetStreamServer,
  onSubjectOf,
  provisionAll,
  RethrowRpcErrors,
  type RunningService,
  serviceHandle,
  systemClock,
  taskConsumerConfig,
} from '@orchestra/bus';
import { DispatchTask, Streams, Subjects, envVariable as variable } from '@orchestra/contracts';
import 'reflect-metadata';
import { builtinPlugin } from './builtin.js';
import { DispatcherModule } from './dispatcher.module.js';
import type { Plugin } from './plugin.js';
import { PLUGINS_FILE_VARIABLE } from './plugins/load.js';
import { TaskRunner } from './task-runner.js';

/** The dispatcher's own variables (README, "Configuration"). */
export const DISPATCHER_ENVIRONMENT = {
  [PLUGINS_FILE_VARIABLE]: variable.text(
    'the plugins file of the dispatcher (orchestra up --plugins wins over it; default: builtin only)',
  ),
  ORCHESTRA_INSTANCE: variable.text("this dispatcher's name in orchestra plugins (default: host name:pid)"),
} as const;

export interface DispatcherOptions {
  connection: NatsConnection;
  logger: BusLogger;
  plugins?: readonly Plugin[];
  /** Tasks run at once per plugin. */
  concurrency?: number;
  clock?: Clock;
  provision?: boolean;
  /** Takes the plugins' secrets out of error messages (see loadPluginsFile). */
  redact?: (text: string) => string;
  /** The name this process announces itself under (ORCHESTRA_INSTANCE in `orchestra up`); default host:pid. */
  instance?: string;
}

/** The version every dispatcher announces (the repository's). */
const WORKER_VERSION = '0.1.0';

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
  for (const plugin of plugins) {
    bindings[Subjects.tasks(plugin.name)] = taskBinding(plugin.name, plugin.concurrency ?? concurrency);
  }
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
      redact: options.redact ?? ((text: string) => text),
    }),
    { strategy: server, logger: false },
  );
  await app.init();
  const runner = app.get(TaskRunner);
  for (const pattern of Object.keys(bindings)) {
    server.addHandler(pattern, (task: DispatchTask) => runner.run(task), true);
  }
  app.useGlobalFilters(new RethrowRpcErrors());
  await app.listen();
  const announcement = await announce(options, plugins, concurrency, runner);
  options.logger.info({ service: 'dispatcher', plugins: plugins.map((p) => p.name) }, 'started');
  const handle = serviceHandle('dispatcher', app, options.logger, { beforeClose: () => runner.stop() });
  return {
    ...handle,
    // Leaves the announcement first: a draining dispatcher no longer counts as serving its plugins.
    stop: () => announcement.stop().then(handle.stop),
  };
}

/**
 * Announces the hosted plugins (README, Plugins, "Announcing a worker"). A server that refuses
 * the service subjects (a NATS user without them) costs the listing, never the dispatcher.
 */
async function announce(
  options: DispatcherOptions,
  plugins: readonly Plugin[],
  concurrency: number,
  runner: TaskRunner,
): Promise<{ stop(): Promise<void> }> {
  let stopping = false;
  try {
    const service = await announceWorker(options.connection, {
      instance: options.instance ?? `${hostname()}:${process.pid}`,
      version: WORKER_VERSION,
      plugins: plugins.map((plugin) => ({
        plugin: plugin.name,
        kind: plugin.kind ?? 'custom',
        concurrency: plugin.concurrency ?? concurrency,
      })),
      counts: (plugin) => runner.activity.snapshot(plugin),
    });
    void service.stopped.then((error) => {
      if (error && !stopping) {
        options.logger.warn({ service: 'dispatcher', ...errorFields(error) }, 'plugin announcement stopped');
      }
    });
    return {
      stop: async () => {
        stopping = true;
        await service.stop().catch(() => undefined);
      },
    };
  } catch (error) {
    options.logger.warn({ service: 'dispatcher', ...errorFields(error) }, 'could not announce the plugins');
    return { stop: async () => undefined };
  }
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
