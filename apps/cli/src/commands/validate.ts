import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { type Issue, LIMITS, type PlanFormat, type PlanValidation, parsePlan } from '@orchestra/contracts';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';

/** One line of `validate --json`. */
export interface ValidateReport {
  file: string;
  valid: boolean;
  plan_id?: string;
  issues?: Issue[];
  /** For the human output only; left out of --json. */
  counts?: { phases: number; tasks: number };
}

export const registerValidate: CommandRegistration = (program, cli) => {
  program
    .command('validate')
    .description('check plan files (YAML or JSON) without running them')
    .argument('<plan...>', 'plan files; .json is read as JSON, .yaml/.yml as YAML, others by content')
    .option('--json', 'print a JSON array of { file, valid, plan_id?, issues? }')
    .action(async (files: string[], options: { json?: boolean }) => {
      const reports = await Promise.all(files.map((file) => validateFile(file, cli.io.cwd)));
      if (options.json) {
        const lines = reports.map(({ counts: _counts, ...report }) => report);
        cli.out(JSON.stringify(lines, null, 2));
      } else {
        for (const report of reports) print(cli, report);
      }
      cli.exitCode = reports.every((report) => report.valid) ? ExitCode.ok : ExitCode.failed;
    });
};

/** Reads and parses a plan file: the validated plan, or every issue (unreadable file included). */
export async function loadPlan(file: string, cwd: string): Promise<PlanValidation> {
  const text = await readPlanFile(resolve(cwd, file));
  if (typeof text !== 'string') return { ok: false, issues: [text] };
  return parsePlan(text, formatOf(file));
}

export async function validateFile(file: string, cwd: string): Promise<ValidateReport> {
  const result = await loadPlan(file, cwd);
  if (!result.ok) return { file, valid: false, issues: result.issues };
  const { plan } = result;
  const tasks = plan.phases.reduce((sum, phase) => sum + phase.tasks.length, 0);
  return { file, valid: true, plan_id: plan.plan_id, counts: { phases: plan.phases.length, tasks } };
}

function print(cli: Cli, report: ValidateReport) {
  if (report.valid && report.counts) {
    const { phases, tasks } = report.counts;
    cli.out(
      `✓ ${report.file}: plan ${report.plan_id} is valid (${plural(phases, 'phase')}, ${plural(tasks, 'task')})`,
    );
    return;
  }
  cli.err(`✗ ${report.file}`);
  for (const issue of report.issues ?? []) cli.err(`  ${issue.path}: ${issue.message}`);
}

/** The file's text, or an issue saying why it cannot be read (checked for size before reading). */
async function readPlanFile(path: string): Promise<string | Issue> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return { path: '(file)', message: 'not a regular file' };
    if (info.size > LIMITS.planBytes) {
      return { path: '(file)', message: `the file is ${info.size} bytes; the limit is ${LIMITS.planBytes}` };
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    return { path: '(file)', message: readError(error) };
  }
}

function readError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot read the file: ${(error as Error).message}`;
}

function formatOf(file: string): PlanFormat | undefined {
  const extension = extname(file).toLowerCase();
  if (extension === '.json') return 'json';
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  return undefined;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
