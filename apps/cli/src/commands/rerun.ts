import type { OrchestraClient } from '@orchestra/client';
import { noLog } from '@orchestra/client';
import { type Issue, OrchestraError, type Plan, ValidationError } from '@orchestra/contracts';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { describeChange, diffPlans } from '../plan-diff.js';
import { finish, type RunOptions } from './run.js';
import { loadPlan } from './validate.js';

interface RerunOptions extends RunOptions {
  failed?: boolean;
  task?: string[];
  plan?: string;
}

/** What `orchestra.api.rerun` answers (services/orchestrator ApiService.rerun). */
interface RerunReply {
  execution_id: string;
  duplicate: boolean;
  rerun_of: string;
  reused: string[];
  run_again: { task: string; why: string }[];
}

/**
 * `orchestra rerun`: re-run from failure (docs/audit.md, "Re-run from failure"). The orchestrator
 * checks the request against the source before it stores anything; with `--plan` the changed
 * fields of each changed task are shown first.
 */
export const registerRerun: CommandRegistration = (program, cli) => {
  program
    .command('rerun')
    .description(
      'start a new execution from a finished one: reuse what succeeded, run again what failed, what you name, and what depends on them',
    )
    .argument('<execution_id>', 'the source execution (finished, its events still retained)')
    .option('--failed', 'run again the tasks that did not succeed and what depends on them (the default)')
    .option(
      '--task <phase_id.task_id>',
      'also run this task again, and what depends on it (repeat for several)',
      (value: string, all: string[] = []) => [...all, value],
    )
    .option(
      '--plan <file>',
      'a corrected plan with the same task ids: a task whose definition changed runs again',
    )
    .option('--id <execution_id>', 'the new execution id (sending the same id again starts nothing new)')
    .option('--watch', 'show live progress, then the execution_results')
    .option('--wait', 'wait for the new execution to finish, then print the execution_results')
    .option('--json', 'print the reply as JSON (with --wait or --watch: only the execution_results)')
    .action((source: string, options: RerunOptions) =>
      withClient(cli, async (client) => {
        let plan: Plan | undefined;
        if (options.plan) {
          plan = await correctedPlan(cli, client, source, options.plan, !options.json);
          if (!plan) return;
        }
        const reply = await requestRerun(cli, client, {
          source_execution_id: source,
          ...(options.id ? { execution_id: options.id } : {}),
          ...(options.task ? { tasks: options.task } : {}),
          ...(plan ? { plan } : {}),
        });
        if (!reply) return;
        if (options.json && !options.watch && !options.wait) return cli.out(JSON.stringify(reply, null, 2));
        if (!options.json) printReply(cli, reply);
        if (options.watch || options.wait) await finish(cli, client, reply.execution_id, options);
      }),
    );
};

/**
 * The corrected plan, validated, after showing what it changes in the source's plan (read from
 * the source's ExecutionStarted). Undefined, with the problems printed and exit code 1, when the
 * file is invalid or the source has no log: nothing is sent then.
 */
async function correctedPlan(
  cli: Cli,
  client: OrchestraClient,
  source: string,
  file: string,
  show: boolean,
): Promise<Plan | undefined> {
  const loaded = await loadPlan(file, cli.io.cwd);
  if (!loaded.ok) return refused(cli, `✗ ${file}`, loaded.issues);
  const started = (await client.events(source)).find((stored) => stored.event.type === 'ExecutionStarted');
  if (started?.event.type !== 'ExecutionStarted') return refused(cli, noLog(source), []);
  const diff = diffPlans(started.event.plan, loaded.plan);
  // Other task ids: the orchestrator refuses the re-run and names each; no diff to show first.
  if (show && diff.sameTasks) {
    if (diff.tasks.length === 0) cli.out(`${file} changes no task of ${source}'s plan`);
    else cli.out(`${file} changes ${diff.tasks.length} task(s) of ${source}'s plan (they run again):`);
    for (const change of diff.tasks) {
      cli.out(`  ${change.task}`);
      for (const field of change.fields) cli.out(`    ${describeChange(field)}`);
    }
    if (diff.plan.length > 0) cli.out('  and outside the tasks (no task runs again for these alone):');
    for (const field of diff.plan) cli.out(`    ${describeChange(field)}`);
  }
  return loaded.plan;
}

async function requestRerun(
  cli: Cli,
  client: OrchestraClient,
  body: object,
): Promise<RerunReply | undefined> {
  try {
    return await client.request<RerunReply>('rerun', body, 15_000);
  } catch (error) {
    if (error instanceof ValidationError) {
      // A refusal of the source as a whole repeats its message as its one issue.
      const issues = error.issues.filter((issue) => issue.message !== error.message);
      return refused(cli, `✗ ${error.message}`, issues);
    }
    if (error instanceof OrchestraError) return refused(cli, `✗ ${error.message}`, []);
    const message = (error as Error).message;
    throw new Error(`no orchestrator answered orchestra.api.rerun (${message}): is "orchestra up" running?`);
  }
}

function printReply(cli: Cli, reply: RerunReply): void {
  const again = reply.duplicate ? ' (already submitted: nothing new started)' : '';
  cli.out(`re-run of ${reply.rerun_of}: execution ${reply.execution_id}${again}`);
  cli.out(`  reused (${reply.reused.length}): ${reply.reused.join(', ') || 'none'}`);
  cli.out(`  runs again (${reply.run_again.length}):${reply.run_again.length === 0 ? ' none' : ''}`);
  for (const { task, why } of reply.run_again) cli.out(`    ${task}: ${why}`);
}

function refused(cli: Cli, message: string, issues: readonly Issue[]): undefined {
  cli.err(message);
  for (const issue of issues) cli.err(`  ${issue.path}: ${issue.message}`);
  cli.exitCode = ExitCode.failed;
  return undefined;
}
