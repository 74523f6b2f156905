import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { OrchestraClient } from '@orchestra/client';
import { OrchestraError } from '@orchestra/contracts';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import type { MissingEffect } from '../doctor/examine.js';
import { type DoctorFindings, examine, type StuckExecution } from '../doctor/scan.js';

interface Repair {
  execution_id: string;
  tasks: string[];
  accepted: boolean;
  error?: string;
}

/**
 * `orchestra doctor`: running executions that cannot progress because a message their log
 * implies is not on the bus, and missing durable consumers; `--repair` asks the orchestrator to
 * publish the lost messages again (RepairExecution, recorded as ExecutionRepaired). See
 * docs/audit.md, "Stuck runs".
 */
export const registerDoctor: CommandRegistration = (program, cli) => {
  program
    .command('doctor')
    .description(
      'find running executions that cannot progress (a dispatch or timer message lost, a consumer deleted); --repair recovers them',
    )
    .argument('[execution_id...]', 'examine only these (default: every execution in the events stream)')
    .option('--repair', 'send RepairExecution for each stuck execution, naming its stuck tasks')
    .option('--json', 'print the findings (and repairs) as JSON')
    .action((ids: string[], options: { repair?: boolean; json?: boolean }) =>
      withClient(cli, async (client) => {
        const findings = await examine(jetstream(client.nc), await jetstreamManager(client.nc), ids);
        const repairs = options.repair ? await repairAll(client, findings.stuck) : [];
        const healthy =
          findings.missing_consumers.length === 0 &&
          (options.repair ? repairs.every((repair) => repair.accepted) : findings.stuck.length === 0);
        if (options.json) cli.out(JSON.stringify({ healthy, ...findings, repairs }, null, 2));
        else print(cli, findings, repairs, options.repair ?? false);
        cli.exitCode = healthy ? ExitCode.ok : ExitCode.failed;
      }),
    );
};

async function repairAll(client: OrchestraClient, stuck: readonly StuckExecution[]): Promise<Repair[]> {
  const repairs: Repair[] = [];
  for (const { execution_id, tasks } of stuck) {
    const names = tasks.map((task) => task.task_id);
    const reason = `orchestra doctor: ${tasks.map((task) => `${task.task_id} lacks ${task.missing.map((m) => m.kind).join(', ')}`).join('; ')}`;
    try {
      await client.request('repair', { execution_id, reason: reason.slice(0, 1024), tasks: names }, 10_000);
      repairs.push({ execution_id, tasks: names, accepted: true });
    } catch (error) {
      const message =
        error instanceof OrchestraError
          ? error.message
          : `no orchestrator answered orchestra.api.repair (${(error as Error).message})`;
      repairs.push({ execution_id, tasks: names, accepted: false, error: message });
    }
  }
  return repairs;
}

function print(cli: Cli, findings: DoctorFindings, repairs: readonly Repair[], repairing: boolean): void {
  cli.out(
    `examined ${findings.executions} execution(s) in the events stream: ${findings.running} running, ${findings.stuck.length} stuck`,
  );
  for (const execution of findings.stuck) {
    cli.out(`✗ ${execution.execution_id}${execution.plan_id ? ` (plan ${execution.plan_id})` : ''}`);
    for (const task of execution.tasks) {
      const what =
        task.status === 'running'
          ? `attempt ${task.attempt_number} running`
          : `retry as attempt ${task.attempt_number} waiting`;
      cli.out(
        `    ${task.phase_id}.${task.task_id}: ${what}, but ${task.missing.map(describeMissing).join(', and ')}`,
      );
    }
  }
  if (findings.not_yet_published > 0)
    cli.out(`  (${findings.not_yet_published} task(s) not judged: their effects are still being published)`);
  for (const consumer of findings.missing_consumers)
    cli.out(
      `✗ consumer ${consumer.name} on ${consumer.stream} is missing: ${consumer.why}. Restart that service to create it again.`,
    );
  for (const repair of repairs)
    cli.out(
      repair.accepted
        ? `→ ${repair.execution_id}: repair sent (${repair.tasks.join(', ')}): the orchestrator publishes their messages again`
        : `✗ ${repair.execution_id}: repair refused: ${repair.error}`,
    );
  if (findings.stuck.length > 0 && !repairing)
    cli.out('run "orchestra doctor --repair" to publish them again');
  if (findings.stuck.length === 0 && findings.missing_consumers.length === 0) cli.out('✓ nothing stuck');
}

function describeMissing(missing: MissingEffect): string {
  switch (missing.kind) {
    case 'dispatch':
      return `its dispatch ${missing.msg_id} is not on ${missing.subject}`;
    case 'deadline-timer':
      return `its deadline timer (due ${new Date(missing.due_at).toISOString()}) is not on ${missing.subject}`;
    case 'retry-timer':
      return `its retry timer (due ${new Date(missing.due_at).toISOString()}) is not on ${missing.subject}`;
  }
}
