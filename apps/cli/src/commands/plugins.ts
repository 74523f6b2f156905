import type { NatsConnection } from '@nats-io/transport-node';
import { type LiveWorker, listWorkers, pluginsOfPlan, unservedPlugins } from '@orchestra/bus';
import type { Plan } from '@orchestra/contracts';
import { withClient } from '../connect.js';
import type { Cli, CommandRegistration } from '../context.js';

/** `orchestra plugins`: the live workers and what they serve (README, Plugins). */
export const registerPlugins: CommandRegistration = (program, cli) => {
  program
    .command('plugins')
    .description('list the live workers: each plugin, its kind, instance, concurrency and counts')
    .option('--json', 'print them as JSON')
    .action((options: { json?: boolean }) =>
      withClient(cli, async (client) => {
        const workers = await listWorkers(client.nc);
        if (options.json) return cli.out(JSON.stringify(workers, null, 2));
        if (workers.length === 0) return cli.out('no live workers (start one with "orchestra up")');
        for (const line of workerTable(workers)) cli.out(line);
      }),
    );
};

const COLUMNS = ['PLUGIN', 'KIND', 'INSTANCE', 'CONCURRENCY', 'IN FLIGHT', 'PROCESSED', 'FAILED'] as const;

export function workerTable(workers: readonly LiveWorker[]): string[] {
  const show = (n: number | undefined) => (n === undefined ? '-' : String(n));
  const rows = workers.map((w) => [
    w.plugin,
    w.kind,
    w.instance,
    show(w.concurrency),
    show(w.in_flight),
    show(w.processed),
    show(w.failed),
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  return [[...COLUMNS], ...rows].map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * Says on stderr which plugins of the plan no live worker serves: their tasks would wait for
 * their timeout. Only a warning: a worker may still start, and the command is stored anyway.
 */
export async function warnUnserved(cli: Cli, nc: NatsConnection, plan: Plan): Promise<void> {
  const unserved = await unservedPlugins(nc, pluginsOfPlan(plan)).catch(() => []);
  if (unserved.length === 0) return;
  cli.err(
    `warning: no live worker serves ${unserved.join(', ')}: ` +
      'their tasks wait for one to start, or time out (see "orchestra plugins")',
  );
}
