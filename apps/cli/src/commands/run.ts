import type { OrchestraClient } from '@orchestra/client';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { followExecution } from '../progress.js';
import { exitCodeOf, printResults } from './inspect.js';
import { warnUnserved } from './plugins.js';
import { loadPlan } from './validate.js';

export interface RunOptions {
  watch?: boolean;
  wait?: boolean;
  json?: boolean;
  id?: string;
}

export const registerRun: CommandRegistration = (program, cli) => {
  program
    .command('run')
    .description('submit a plan; the command is stored even while no orchestrator is up')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .option('--watch', 'show live progress, then the execution_results')
    .option('--wait', 'wait for the execution to finish, then print the execution_results')
    .option('--json', 'with --wait or --watch: print only execution_results as JSON; else { execution_id }')
    .option(
      '--id <execution_id>',
      'choose the execution id (submitting the same id again starts nothing new)',
    )
    .action(async (file: string, options: RunOptions) => {
      const loaded = await loadPlan(file, cli.io.cwd);
      if (!loaded.ok) {
        cli.err(`✗ ${file}`);
        for (const issue of loaded.issues) cli.err(`  ${issue.path}: ${issue.message}`);
        cli.exitCode = ExitCode.failed;
        return;
      }
      await withClient(cli, async (client) => {
        const [{ execution_id, duplicate }] = await Promise.all([
          client.execute(loaded.plan, options.id),
          warnUnserved(cli, client.nc, loaded.plan),
        ]);
        if (!options.watch && !options.wait) {
          if (options.json) cli.out(JSON.stringify({ execution_id, duplicate }));
          else cli.out(`${duplicate ? 'already submitted' : 'submitted'}: execution ${execution_id}`);
          return;
        }
        if (!options.json) cli.out(`execution ${execution_id}${duplicate ? ' (already submitted)' : ''}`);
        await finish(cli, client, execution_id, options);
      });
    });
};

export const registerWatch: CommandRegistration = (program, cli) => {
  program
    .command('watch')
    .description("follow an execution's events (history, then live) with a progress bar per phase")
    .argument('<id>', 'execution id')
    .option('--json', 'print only the final execution_results as JSON')
    .action((id: string, options: { json?: boolean }) =>
      withClient(cli, (client) => finish(cli, client, id, { watch: true, json: options.json ?? false })),
    );
};

/** Follows (or just awaits) the execution, then prints its results and sets the exit code. */
export async function finish(
  cli: Cli,
  client: OrchestraClient,
  execution_id: string,
  options: RunOptions,
): Promise<void> {
  if (options.watch && !options.json) {
    const isTTY = Boolean((cli.io.stdout as { isTTY?: boolean }).isTTY);
    await followExecution(client, execution_id, { isTTY, write: (text) => cli.io.stdout.write(text) });
  }
  const results = await client.waitForResults(execution_id);
  printResults(cli, results, options.json);
  cli.exitCode = exitCodeOf(results.status);
}
