import { type ChainVerdict, verifierFromKey } from '@orchestra/bus';
import { type ExecutionResults, NotFoundError } from '@orchestra/contracts';
import { stringify } from 'yaml';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { formatResults, TIMELINE_HEADER, timelineLine } from '../render.js';
import { localVerifyKeys } from '../signing-key.js';

/** `results`, `status`, `replay`, `ls`, `cancel`: reading and steering executions by id. */

export const registerResults: CommandRegistration = (program, cli) => {
  program
    .command('results')
    .description('print the stored execution_results of an execution')
    .argument('<id>', 'execution id')
    .option('--json', 'print execution_results as JSON')
    .addHelpText('after', `\n${EXIT_STATUS_HELP}`)
    .action((id: string, options: { json?: boolean }) =>
      withClient(cli, async (client) => {
        const results = await client.results(id);
        if (!results) return notFound(cli, `no execution_results for ${id} (yet)`);
        printResults(cli, results, options.json);
        cli.exitCode = exitCodeOf(results.status);
      }),
    );
};

export const registerStatus: CommandRegistration = (program, cli) => {
  program
    .command('status')
    .description(
      "print the execution context: plan_id, start_time, state, current_phase, completed_phases, task_outputs (under each task's output_key, as the seed's context), outputs_by_task (under task ids), errors",
    )
    .argument('<id>', 'execution id')
    .option('--json', 'print it as JSON')
    .action((id: string, options: { json?: boolean }) =>
      withClient(cli, async (client) => {
        try {
          const context = await client.status(id);
          cli.out(
            options.json
              ? JSON.stringify(context, null, 2)
              : // task_outputs and outputs_by_task hold the same values: written out, not as YAML aliases.
                stringify(
                  { execution_context: context },
                  { aliasDuplicateObjects: false, lineWidth: 0 },
                ).trimEnd(),
          );
        } catch (error) {
          if (error instanceof NotFoundError) return notFound(cli, error.message);
          throw error;
        }
      }),
    );
};

export const registerReplay: CommandRegistration = (program, cli) => {
  program
    .command('replay')
    .description(
      'the event log as a timeline, execution_results recomputed from it, and whether they match the stored ones',
    )
    .argument('<id>', 'execution id')
    .option('--json', 'print { execution_id, events, recomputed, stored, matches, verified } as JSON')
    .action((id: string, options: { json?: boolean }) =>
      withClient(cli, async (client) => {
        let report: Awaited<ReturnType<typeof client.replay>>;
        // The chain's signatures are checked against the key `orchestra verify` trusts by default.
        const trusted = localVerifyKeys(cli.io.cwd, cli.io.env).map((key) => verifierFromKey(key));
        try {
          report = await client.replay(id, { trusted });
        } catch (error) {
          if (error instanceof NotFoundError) return notFound(cli, error.message);
          throw error;
        }
        if (options.json) cli.out(JSON.stringify(report, null, 2));
        else {
          const origin = report.events[0]?.event.at ?? 0;
          cli.out(`event log of ${id} (${report.events.length} events):`);
          cli.out(TIMELINE_HEADER);
          for (const { seq, event } of report.events) cli.out(timelineLine(seq, event, origin));
          cli.out('');
          cli.out('execution_results recomputed from the log:');
          cli.out(formatResults(report.recomputed));
          cli.out('');
          cli.out(
            report.stored === null
              ? 'stored execution_results: none yet'
              : `stored execution_results ${report.matches ? 'match' : 'DIFFER FROM'} the recomputed ones`,
          );
          cli.out(chainLine(report.verified));
        }
        cli.exitCode = report.matches && report.verified.ok ? ExitCode.ok : ExitCode.failed;
      }),
    );
};

export const registerList: CommandRegistration = (program, cli) => {
  program
    .command('ls')
    .description('list recent executions, newest first')
    .option('--limit <n>', 'how many', (value) => Number.parseInt(value, 10), 20)
    .option('--json', 'print them as JSON')
    .action((options: { limit: number; json?: boolean }) =>
      withClient(cli, async (client) => {
        const executions = await client.list(options.limit);
        if (options.json) return cli.out(JSON.stringify(executions, null, 2));
        if (executions.length === 0) return cli.out('no executions yet');
        for (const results of executions) {
          const s = results.summary;
          cli.out(
            `${results.execution_id.padEnd(24)} ${results.status.padEnd(10)} ${(results.plan_id ?? '?').padEnd(28)} ` +
              `${s.successful}/${s.total_tasks} ok  ${results.started_at ?? ''}`,
          );
        }
      }),
    );
};

export const registerCancel: CommandRegistration = (program, cli) => {
  program
    .command('cancel')
    .description('cancel a running execution')
    .argument('<id>', 'execution id')
    .option('--reason <text>', 'recorded in the ExecutionCancelled event')
    .action((id: string, options: { reason?: string }) =>
      withClient(cli, async (client) => {
        if ((await client.events(id)).length === 0) return notFound(cli, `no execution ${id}`);
        await client.cancel(id, options.reason);
        cli.out(`cancel of ${id} requested`);
      }),
    );
};

/** The replay's one line on the tamper-evident chain (`orchestra verify` says more). */
function chainLine(verdict: ChainVerdict): string {
  const problem = verdict.first_problem;
  if (problem) return `the log's chain does NOT verify at stream sequence ${problem.seq}: ${problem.problem}`;
  return verdict.signatures_checked
    ? `the log's chain verifies: ${verdict.records} records, each signed by the trusted key`
    : `the log's chain verifies: ${verdict.records} records (signatures not checked: no trusted key, see orchestra verify)`;
}

export function printResults(cli: Cli, results: ExecutionResults, json?: boolean): void {
  cli.out(json ? JSON.stringify(results, null, 2) : formatResults(results));
}

/** The one rule of `results`, `watch` and `run --wait/--watch`, shown in their help and the README. */
export const EXIT_STATUS_HELP =
  'Exit status: 0 when the execution completed, or ended partial (some tasks skipped); 1 when it ' +
  'failed, was cancelled or rejected, or is unknown; 2 for a usage error. `results` of an ' +
  'execution that has not finished yet exits 0.';

/** EXIT_STATUS_HELP: 0 for a run that reached its end (completed or partial) or has not ended yet, 1 otherwise. */
export function exitCodeOf(status: ExecutionResults['status']): ExitCode {
  return status === 'completed' || status === 'partial' || status === 'running' || status === 'pending'
    ? ExitCode.ok
    : ExitCode.failed;
}

function notFound(cli: Cli, message: string): void {
  cli.err(message);
  cli.exitCode = ExitCode.failed;
}
