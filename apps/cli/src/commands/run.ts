import { comparePriorRun, type OrchestraClient, type PriorRun } from '@orchestra/client';
import type { Issue, Plan } from '@orchestra/contracts';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { followExecution } from '../progress.js';
import { EXIT_STATUS_HELP, exitCodeOf, printResults } from './inspect.js';
import { warnUnserved } from './plugins.js';
import { loadPlan } from './validate.js';

export interface RunOptions {
  watch?: boolean;
  wait?: boolean;
  json?: boolean;
  id?: string;
}

/** How long a resubmission waits for an orchestrator to start the id's first command, to compare plans. */
const PRIOR_RUN_WAIT_MS = 3_000;

export const registerRun: CommandRegistration = (program, cli) => {
  program
    .command('run')
    .description('submit a plan; the command is stored even while no orchestrator is up')
    .argument('<plan>', 'plan file (YAML or JSON)')
    .option('--watch', 'show live progress, then the execution_results')
    .option('--wait', 'wait for the execution to finish, then print the execution_results')
    .option(
      '--json',
      'with --wait or --watch: print only execution_results as JSON; else { execution_id }; errors as { error }',
    )
    .option(
      '--id <execution_id>',
      'choose the execution id: it names one plan for good (the same plan again starts nothing new)',
    )
    .addHelpText('after', `\n${EXIT_STATUS_HELP}`)
    .action(async (file: string, options: RunOptions) => {
      try {
        await run(cli, file, options);
      } catch (error) {
        if (!options.json) throw error;
        fail(cli, options, {
          code: 'ERROR',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    });
};

async function run(cli: Cli, file: string, options: RunOptions): Promise<void> {
  const loaded = await loadPlan(file, cli.io.cwd);
  if (!loaded.ok) {
    const message = `${file}: invalid plan, ${loaded.issues.length} problem(s)`;
    return fail(cli, options, { code: 'VALIDATION', message, issues: loaded.issues }, () => {
      cli.err(`✗ ${file}`);
      for (const issue of loaded.issues) cli.err(`  ${issue.path}: ${issue.message}`);
    });
  }
  const plan = loaded.plan;
  await withClient(cli, async (client) => {
    // An id that already ran something is checked before anything is stored under it.
    const before = options.id ? comparePriorRun(await client.firstEvent(options.id), plan) : undefined;
    if (before && refused(cli, file, options, plan, before)) return;
    const [{ execution_id, duplicate }] = await Promise.all([
      client.execute(plan, options.id),
      warnUnserved(cli, client.nc, plan),
    ]);
    if (duplicate && before?.kind === 'none') {
      // The id's first command is stored but not started yet: compare once an orchestrator has.
      const after = comparePriorRun(await client.firstEvent(execution_id, PRIOR_RUN_WAIT_MS), plan);
      if (refused(cli, file, options, plan, after)) return;
    }
    if (!options.watch && !options.wait) {
      if (options.json) cli.out(JSON.stringify({ execution_id, duplicate }));
      else cli.out(`${duplicate ? 'already submitted' : 'submitted'}: execution ${execution_id}`);
      return;
    }
    if (!options.json) cli.out(`execution ${execution_id}${duplicate ? ' (already submitted)' : ''}`);
    await finish(cli, client, execution_id, options);
  });
}

/**
 * Refuses a plan for an id that holds another one: an execution id names one plan for good, so
 * the same id with another plan would silently show the old plan's results.
 */
function refused(cli: Cli, file: string, options: RunOptions, plan: Plan, prior: PriorRun): boolean {
  if (prior.kind !== 'different' && prior.kind !== 'rejected') return false;
  const id = options.id as string;
  const held =
    prior.kind === 'different'
      ? `a different plan (${prior.plan_id}, digest ${prior.digest.slice(0, 12)})`
      : `a plan that was rejected${prior.plan_id ? ` (${prior.plan_id})` : ''}: ${prior.reason}`;
  const message =
    `execution id ${id} already ran ${held}; ${file} holds plan ${plan.plan_id}. ` +
    `An execution id names one plan for good: choose a new id (\`orchestra run ${file} --id ${id}-2\`), ` +
    'or leave out --id to get a fresh one.';
  fail(cli, options, { code: 'ID_IN_USE', message, execution_id: id }, () => cli.err(`✗ ${message}`));
  return true;
}

/** Exit code 1 with the error: on stdout as `{ error }` with --json (for scripts), else on stderr. */
function fail(
  cli: Cli,
  options: RunOptions,
  error: { code: string; message: string; issues?: Issue[]; execution_id?: string },
  human: () => void = () => cli.err(`orchestra: ${error.message}`),
): void {
  if (options.json) cli.out(JSON.stringify({ error }, null, 2));
  else human();
  cli.exitCode = ExitCode.failed;
}

export const registerWatch: CommandRegistration = (program, cli) => {
  program
    .command('watch')
    .description("follow an execution's events (history, then live) with a progress bar per phase")
    .argument('<id>', 'execution id')
    .option('--json', 'print only the final execution_results as JSON')
    .addHelpText('after', `\n${EXIT_STATUS_HELP}`)
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
    await followExecution(client, execution_id, cli.io.stdout);
    cli.out('');
  }
  const results = await client.waitForResults(execution_id);
  printResults(cli, results, options.json);
  cli.exitCode = exitCodeOf(results.status);
}
