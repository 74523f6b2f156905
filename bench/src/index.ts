import { writeFileSync } from 'node:fs';
import { BUDGET_MS, type Context, FULL, QUICK, type Sizes } from './harness.js';
import { type RedisHandle, useRedis } from './infra.js';
import { machineBefore, machineInfo, packageVersion } from './machine.js';
import { type Options, parseArgs, USAGE, UsageError } from './options.js';
import { type Row, renderRows, renderTargets, type TargetCheck } from './report.js';
import { RUNNERS } from './runners/index.js';
import { round } from './stats.js';
import { runSweep } from './sweep.js';

type Log = (line: string) => void;

/** What a run adds to the report: its mode, its sections, and the text printed without --json. */
interface RunResult {
  mode: string;
  text: string;
  [section: string]: unknown;
}

/** The scenarios: a report section, table rows and target checks each. */
async function runBench(options: Options, redis: RedisHandle | undefined, log: Log): Promise<RunResult> {
  const mode = options.quick ? 'quick' : 'full';
  const sizes: Sizes = { ...(options.quick ? QUICK : FULL), ...options.sizes };
  const ctx: Context = { sizes, budgetMs: BUDGET_MS[mode], redis, profileDir: options.profileDir, log };
  const scenarios: Record<string, unknown> = {};
  const rows: Row[] = [];
  const checks: TargetCheck[] = [];
  for (const scenario of options.only) {
    log(`scenario ${scenario}`);
    const result = await RUNNERS[scenario](ctx);
    scenarios[scenario] = result.data;
    rows.push(...result.rows);
    checks.push(...result.checks);
  }
  return {
    mode,
    setup: {
      services:
        'processes: orchestrator, dispatcher and results each in its own `orchestra up --services <name>` (default concurrency: orchestrator 32, dispatcher 16)',
      nats: 'a nats-server per scenario part, JetStream file storage in a temporary directory, max_payload 8MB',
      limit:
        'bare JetStream in the benchmark process: work-queue streams, file storage, producer/worker/collector on their own connections, 256 publishes in flight',
      batched:
        'the limit plus an event log, batched: one record per execution appended before its commands, outcomes published pipelined per group and acked by one AckAll, one record per execution per group of outcomes (interest-retention streams: AckAll is refused on work queues)',
      peer: `BullMQ ${packageVersion('bullmq')} in the benchmark process on the local Redis, worker concurrency 16, completed jobs kept`,
      sizes,
      budget_ms_per_part: BUDGET_MS[mode],
    },
    scenarios,
    targets: checks,
    table: rows,
    text: `${renderRows(rows)}\n\nTargets (issue 13; issue 6 where 13 sets none)\n\n${renderTargets(checks)}`,
  };
}

async function main(argv: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log: Log = (line) =>
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const startedAt = new Date();
  const what = options.sweep
    ? 'sweep'
    : `mode ${options.quick ? 'quick' : 'full'}, scenarios ${options.only.join(',')}`;
  log(`${what}; measuring the machine's load for 2 s first`);
  const before = await machineBefore();
  const needsPeer = !options.sweep && options.only.some((s) => s === 'W' || s === 'C' || s === 'M');
  let redis: RedisHandle | undefined;
  let redisText = 'not used';
  if (needsPeer) {
    try {
      redis = await useRedis();
      redisText = `${redis.version}${redis.own ? ' (started by the benchmark)' : ' (already running)'}`;
    } catch (error) {
      redisText = (error as Error).message;
      log(`no Redis for the peer: ${redisText}`);
    }
  }
  let result: RunResult;
  try {
    result = options.sweep
      ? await runSweep(options.sweep, options.inFlight, log)
      : await runBench(options, redis, log);
  } finally {
    await redis?.stop();
  }
  const finishedAt = new Date();
  const { text, mode, ...rest } = result;
  const report = {
    tool: 'orchestra-bench',
    version: 2,
    mode,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine: machineInfo(before, redisText),
    ...rest,
  };
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const m = report.machine;
  const load = `load ${m.loadavg_before.join(' ')}, ${m.busy_pct_before ?? '?'}% busy before the run`;
  process.stdout.write(
    `\nOrchestra benchmark (${mode}), ${report.started_at}, commit ${m.commit}, ${m.cpus} x ${m.cpu_model}, ${load}\n\n`,
  );
  process.stdout.write(`${text}\n\nreport written to ${options.out} (${report.duration_s} s)\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Clients (BullMQ, NATS) may hold the loop open a little longer: the report is out.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
