import { connectNats, DEFAULT_NATS_URL } from '@orchestra/bus';
import {
  DEFAULT_CONSOLE_HOST,
  DEFAULT_CONSOLE_PORT,
  type RunningConsole,
  startConsole,
} from '@orchestra/console';
import { readEnvironment } from '@orchestra/contracts';
import { LOG_ENVIRONMENT } from '@orchestra/observability';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import type { Cli, CommandRegistration } from '../context.js';
import { CONSOLE_ENVIRONMENT } from '../environment.js';
import { natsUrl } from '../nats-location.js';
import { localVerifyKeys } from '../signing-key.js';

/** `orchestra console`: the web console (README, "Console") until Ctrl-C. */
export const registerConsole: CommandRegistration = (program, cli) => {
  program
    .command('console')
    .description('serve the web console: executions live, graph, timeline, history, actions')
    .option('--port <port>', `HTTP port (0: any free one)`, parsePort, DEFAULT_CONSOLE_PORT)
    .option(
      '--host <host>',
      'interface to listen on (0.0.0.0: every one; set ORCHESTRA_CONSOLE_TOKEN)',
      DEFAULT_CONSOLE_HOST,
    )
    .action(async (options: { port: number; host: string }) => {
      const url = natsUrl(cli.io.env, cli.io.cwd) ?? DEFAULT_NATS_URL;
      const connection = await connectNats({
        servers: url.split(','),
        name: 'orchestra-console',
        env: cli.io.env,
      });
      const running = await openConsole(cli, { connection, natsUrl: url, ...options });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
      await connection.drain().catch(() => undefined);
    });
};

/** Starts the console and prints its address; also used by `orchestra up --console`. */
export async function openConsole(
  cli: Cli,
  options: {
    connection: Parameters<typeof startConsole>[0]['connection'];
    natsUrl: string;
    host?: string;
    port?: number;
    anyPortIfTaken?: boolean;
  },
): Promise<RunningConsole> {
  const env = readEnvironment({ ...LOG_ENVIRONMENT, ...CONSOLE_ENVIRONMENT }, cli.io.env);
  const running = await startConsole({
    connection: options.connection,
    logger: pino({ level: env.LOG_LEVEL ?? 'warn' }),
    host: options.host ?? DEFAULT_CONSOLE_HOST,
    port: options.port ?? DEFAULT_CONSOLE_PORT,
    anyPortIfTaken: options.anyPortIfTaken ?? false,
    token: env.ORCHESTRA_CONSOLE_TOKEN,
    cli: options.natsUrl === DEFAULT_NATS_URL ? 'npx orchestra' : `NATS_URL=${options.natsUrl} npx orchestra`,
    // ORCHESTRA_VERIFY_KEY (a Kubernetes or compose console), else the key `orchestra up` made here.
    trustedKeys: localVerifyKeys(cli.io.cwd, env),
  });
  cli.out(`orchestra console: ${running.url}`);
  return running;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError(`a port is a number from 0 to 65535, got ${value}`);
  }
  return port;
}
