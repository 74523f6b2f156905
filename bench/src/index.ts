import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { BUDGET_MS, type Context, FULL, QUICK, SCENARIOS, type Scenario, type Sizes } from './harness.js';
import { natsServerVersion, type RedisHandle, useRedis } from './infra.js';
import { round, sleep } from './procs.js';
import { type Row, renderRows, renderTargets, type TargetCheck } from './report.js';
import { RUNNERS } from './runners/index.js';
import { REPO_ROOT } from './system.js';

const USAGE = `npm run bench [-- options]

  --quick            scaled-down sizes (W 2,000, C 50, M 200 x 10, R 100,000, S 200): 1-2 minutes
  --json             print only the JSON report on stdout (progress still goes to stderr)
  --only W,C,M,R,S   run only these scenarios (default all)
  --size KEY=N,...   override sizes: wide, chain, many, manyTasks, replay, replaySample, restart, restartSteps
  --out FILE         where the report goes (default bench-report.json at the repository root)
  --profile [DIR]    run the services under node --cpu-prof, profiles in DIR/<scenario>/<service>/ (default bench-profiles),
                     and put a summary of each (top self-time functions, packages) in the report
  --help             this text
`;

interface Options {
  quick: boolean;
  sizes: Partial<Sizes>;
  json: boolean;
  only: Scenario[];
  out: string;
  profileDir: string | undefined;
}

function parseArgs(argv: string[]): Options | undefined {
  const options: Options = {
    quick: false,
    sizes: {},
    json: false,
    only: [...SCENARIOS],
    out: join(REPO_ROOT, 'bench-report.json'),
    profileDir: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--quick') options.quick = true;
    else if (flag === '--json') options.json = true;
    else if (flag === '--only') {
      const wanted = value().toUpperCase().split(',').filter(Boolean);
      const unknown = wanted.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
      if (unknown.length) throw new UsageError(`unknown scenario(s) ${unknown.join(', ')}`);
      options.only = SCENARIOS.filter((s) => wanted.includes(s));
    } else if (flag === '--size') {
      for (const pair of value().split(',').filter(Boolean)) {
        const [key = '', n = ''] = pair.split('=');
        if (!(key in FULL) || !/^\d+$/.test(n) || Number(n) < 1) throw new UsageError(`bad --size ${pair}`);
        options.sizes[key as keyof Sizes] = Number(n);
      }
    } else if (flag === '--out') options.out = resolve(value());
    else if (flag === '--profile') {
      // The directory is optional: `--profile --quick` keeps the default.
      const next = inline ?? (argv[i + 1]?.startsWith('--') === false ? argv[++i] : undefined);
      options.profileDir = resolve(next || 'bench-profiles');
    } else if (flag === '--help' || flag === '-h') return undefined;
    else throw new UsageError(`unknown option ${flag}`);
  }
  return options;
}

class UsageError extends Error {}

/** Busy share of all CPUs over `ms`, from /proc/stat: the load of whatever else is running. */
async function machineBusy(ms: number): Promise<number | null> {
  const read = () => {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { idle, total: values.reduce((a, b) => a + b, 0) };
  };
  try {
    const before = read();
    await sleep(ms);
    const after = read();
    const total = after.total - before.total;
    return total > 0 ? round((100 * (total - (after.idle - before.idle))) / total, 1) : null;
  } catch {
    return null;
  }
}

function packageVersion(name: string): string {
  try {
    const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string) =>
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const mode = options.quick ? 'quick' : 'full';
  const sizes: Sizes = { ...(options.quick ? QUICK : FULL), ...options.sizes };
  const startedAt = new Date();
  log(`mode ${mode}, scenarios ${options.only.join(',')}; measuring the machine's load for 2 s first`);
  const busyBefore = await machineBusy(2000);
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  const needsPeer = options.only.some((s) => s === 'W' || s === 'C' || s === 'M');
  let redis: RedisHandle | undefined;
  let redisError: string | undefined;
  if (needsPeer) {
    try {
      redis = await useRedis();
    } catch (error) {
      redisError = (error as Error).message;
      log(`no Redis for the peer: ${redisError}`);
    }
  }
  const ctx: Context = { sizes, budgetMs: BUDGET_MS[mode], redis, profileDir: options.profileDir, log };
  const scenarios: Record<string, unknown> = {};
  const rows: Row[] = [];
  const checks: TargetCheck[] = [];
  try {
    for (const scenario of options.only) {
      log(`scenario ${scenario}`);
      const result = await RUNNERS[scenario](ctx);
      scenarios[scenario] = result.data;
      rows.push(...result.rows);
      checks.push(...result.checks);
    }
  } finally {
    await redis?.stop();
  }
  const finishedAt = new Date();
  const report = {
    tool: 'orchestra-bench',
    version: 1,
    mode,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gb: round(os.totalmem() / 1024 ** 3, 1),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      nats_server: natsServerVersion(),
      redis: redis
        ? `${redis.version}${redis.own ? ' (started by the benchmark)' : ' (already running)'}`
        : (redisError ?? 'not used'),
      bullmq: packageVersion('bullmq'),
      loadavg_before: loadBefore,
      loadavg_after: os.loadavg().map((x) => round(x, 2)),
      busy_pct_before: busyBefore,
      note: 'busy_pct_before: share of all CPUs busy during the 2 s before the run (other work on the machine)',
    },
    setup: {
      services:
        'processes: orchestrator, dispatcher and results each in its own `orchestra up --services <name>` (default concurrency: orchestrator 32, dispatcher 16)',
      nats: 'a nats-server per scenario part, JetStream file storage in a temporary directory, max_payload 8MB',
      limit:
        'bare JetStream in the benchmark process: work-queue streams, file storage, producer/worker/collector on their own connections, 256 publishes in flight',
      peer: `BullMQ ${packageVersion('bullmq')} in the benchmark process on the local Redis, worker concurrency 16, completed jobs kept`,
      sizes,
      budget_ms_per_part: BUDGET_MS[mode],
    },
    scenarios,
    targets: checks,
    table: rows,
  };
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const load = `load ${loadBefore.join(' ')}, ${busyBefore ?? '?'}% busy before the run`;
    process.stdout.write(
      `\nOrchestra benchmark (${mode}), ${report.started_at}, ${report.machine.cpus} x ${report.machine.cpu_model}, ${load}\n\n`,
    );
    process.stdout.write(`${renderRows(rows)}\n\nTargets (issue 6)\n\n${renderTargets(checks)}\n\n`);
    process.stdout.write(`report written to ${options.out} (${report.duration_s} s)\n`);
  }
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
