import { traceLogFields } from '@orchestra/observability';
import { pino } from 'pino';
import { type CommandRegistration, ExitCode } from '../context.js';
import { SERVICES, type ServiceName, startStack } from '../stack.js';

export const registerUp: CommandRegistration = (program, cli) => {
  program
    .command('up')
    .description(
      'start the services in this process; without NATS_URL also an embedded nats-server (store in .orchestra/)',
    )
    .option('--services <list>', `comma-separated subset of ${SERVICES.join(',')}`, SERVICES.join(','))
    .action(async (options: { services: string }) => {
      const services = options.services.split(',').map((name) => name.trim()) as ServiceName[];
      const unknown = services.filter((name) => !SERVICES.includes(name));
      if (unknown.length > 0) {
        cli.err(`unknown service(s): ${unknown.join(', ')} (choose from ${SERVICES.join(', ')})`);
        cli.exitCode = ExitCode.usage;
        return;
      }
      const logger = serviceLogger(cli.io.env);
      const stack = await startStack({
        services,
        natsUrl: cli.io.env.NATS_URL,
        logger,
        cwd: cli.io.cwd,
        env: cli.io.env,
      });
      const health = stack.healthPort ? `, health and metrics on :${stack.healthPort}` : '';
      cli.out(`orchestra up: ${services.join(', ')} on ${stack.natsUrl}${health} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      cli.out('orchestra up: stopping (draining in-flight work)');
      await stack.stop();
    });
};

/**
 * pino: pretty lines for a person at a terminal, JSON otherwise (LOG_FORMAT=json|pretty, LOG_LEVEL).
 * A line written while a message is handled carries its trace_id and span_id.
 */
function serviceLogger(env: Readonly<Record<string, string | undefined>>) {
  const pretty = env.LOG_FORMAT ? env.LOG_FORMAT === 'pretty' : Boolean(process.stdout.isTTY);
  const level = env.LOG_LEVEL ?? 'info';
  return pretty
    ? pino({
        level,
        mixin: traceLogFields,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } },
      })
    : pino({ level, mixin: traceLogFields });
}
