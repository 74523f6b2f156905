import { resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectNats } from '@orchestra/bus';
import { type Issue, readEnvironment } from '@orchestra/contracts';
import { type LoadedPlugins, loadPluginsFile, PLUGINS_FILE_VARIABLE } from '@orchestra/dispatcher';
import { LOG_ENVIRONMENT, traceLogFields } from '@orchestra/observability';
import { pino } from 'pino';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { StoreInUseError } from '../embedded-nats.js';
import { serviceEnvironmentProblems } from '../environment.js';
import { SERVICES, type ServiceName, type Stack, startStack } from '../stack.js';
import { openConsole, parsePort } from './console.js';

export const registerUp: CommandRegistration = (program, cli) => {
  program
    .command('up')
    .description(
      'start the services in this process; without NATS_URL also an embedded nats-server (store in .orchestra/)',
    )
    .option('--services <list>', `comma-separated subset of ${SERVICES.join(',')}`, SERVICES.join(','))
    .option('--console', 'also serve the web console (see `orchestra console`)')
    .option('--console-port <port>', 'port of the console (default 8081, or a free one if taken)', parsePort)
    .option(
      '--plugins <file>',
      `the plugins the dispatcher hosts besides builtin (YAML; default $${PLUGINS_FILE_VARIABLE})`,
    )
    .action(
      async (options: { services: string; console?: boolean; consolePort?: number; plugins?: string }) => {
        const services = options.services.split(',').map((name) => name.trim()) as ServiceName[];
        const unknown = services.filter((name) => !SERVICES.includes(name));
        if (unknown.length > 0) {
          cli.err(`unknown service(s): ${unknown.join(', ')} (choose from ${SERVICES.join(', ')})`);
          cli.exitCode = ExitCode.usage;
          return;
        }
        const problems = serviceEnvironmentProblems(services, cli.io.env);
        if (problems.length > 0) return refuse(cli, 'invalid environment', problems);
        const plugins = services.includes('dispatcher') ? loadPlugins(cli, options.plugins) : undefined;
        if (plugins === false) return;
        const logger = serviceLogger(cli.io.env);
        let stack: Stack;
        try {
          stack = await startStack({
            services,
            natsUrl: cli.io.env.NATS_URL,
            logger,
            cwd: cli.io.cwd,
            env: cli.io.env,
            ...(plugins ? { plugins } : {}),
          });
        } catch (error) {
          if (!(error instanceof StoreInUseError)) throw error;
          cli.err(`orchestra up: ${error.message}`);
          cli.exitCode = ExitCode.failed;
          return;
        }
        const web = options.console
          ? await startConsoleOf(cli, stack.natsUrl, options.consolePort)
          : undefined;
        cli.out(`orchestra up: ${services.join(', ')} on ${describe(stack)} (Ctrl-C to stop)`);
        await untilStopSignal();
        cli.out('orchestra up: stopping (draining in-flight work)');
        // Bounded like the stack's own stop: the console's connection may wait for a server that is gone.
        if (web) await Promise.race([web.stop(), sleep(2_000, undefined, { ref: false })]);
        await stack.stop();
        cli.out('orchestra up: stopped');
        // Whatever a library left behind (a timer, a socket), `up` ends once stopped.
        setTimeout(() => process.exit(cli.exitCode), 1_000).unref();
      },
    );
};

/**
 * The plugins file of `--plugins` or ORCHESTRA_PLUGINS, loaded before anything starts; `false`
 * (exit code 1) when it has problems, each printed with its path. None named: builtin only.
 */
function loadPlugins(cli: Cli, option: string | undefined): LoadedPlugins | undefined | false {
  const file = option ?? cli.io.env[PLUGINS_FILE_VARIABLE];
  if (!file) return undefined;
  const loaded = loadPluginsFile(resolvePath(cli.io.cwd, file), cli.io.env);
  if (loaded.ok) return loaded;
  refuse(cli, `plugins file ${file}`, loaded.issues);
  return false;
}

/** Nothing starts: says what is wrong, each problem with its path (exit code 1). */
function refuse(cli: Cli, what: string, issues: readonly Issue[]): void {
  cli.err(`✗ ${what}: nothing started`);
  for (const issue of issues) cli.err(`  ${issue.path}: ${issue.message}`);
  cli.exitCode = ExitCode.failed;
}

/** The console on its own connection, next to the services (`up --console`). */
async function startConsoleOf(cli: Cli, natsUrl: string, port: number | undefined) {
  const connection = await connectNats({
    servers: natsUrl.split(','),
    name: 'orchestra-console',
    env: cli.io.env,
  });
  const running = await openConsole(cli, {
    connection,
    natsUrl,
    port: port ?? 8081,
    anyPortIfTaken: port === undefined,
  });
  return {
    async stop() {
      await running.close();
      await connection.drain().catch(() => undefined);
    },
  };
}

function describe(stack: Stack): string {
  const store = stack.store ? ` (store ${stack.store})` : '';
  const note = stack.healthPortNote ? ` (${stack.healthPortNote})` : '';
  const health = stack.healthPort ? `, health and metrics on :${stack.healthPort}${note}` : '';
  return `${stack.natsUrl}${store}${health}`;
}

/** Ctrl-C, a stop request (docker, kill), and the terminal closing. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Resolves on the first stop signal. A second one while the stack stops (a user pressing Ctrl-C
 * again) ends the process at once: the embedded server, in a session of its own, is stopped by
 * the stack's exit hook. After SIGHUP the terminal is gone: what is still written to it is dropped.
 */
function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      for (const name of STOP_SIGNALS) process.removeListener(name, first);
      for (const name of STOP_SIGNALS) process.once(name, () => process.exit(130));
      if (signal === 'SIGHUP') {
        for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      }
      resolve();
    };
    for (const name of STOP_SIGNALS) process.on(name, first);
  });
}

/**
 * pino: pretty lines for a person at a terminal, JSON otherwise (LOG_FORMAT=json|pretty, LOG_LEVEL).
 * A line written while a message is handled carries its trace_id and span_id.
 */
function serviceLogger(env: Readonly<Record<string, string | undefined>>) {
  const { LOG_FORMAT: format, LOG_LEVEL: level = 'info' } = readEnvironment(LOG_ENVIRONMENT, env);
  const pretty = format ? format === 'pretty' : Boolean(process.stdout.isTTY);
  return pretty
    ? pino({
        level,
        mixin: traceLogFields,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } },
      })
    : pino({ level, mixin: traceLogFields });
}
