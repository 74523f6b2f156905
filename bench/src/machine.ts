import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { natsServerVersion } from './infra.js';
import { sleep } from './procs.js';
import { round } from './stats.js';
import { REPO_ROOT } from './system.js';

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

export function packageVersion(name: string): string {
  try {
    const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The commit the benchmarked tree is at, `+dirty` when it has uncommitted changes. */
function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

const loadavg = () => os.loadavg().map((x) => round(x, 2));

export interface MachineBefore {
  busy_pct_before: number | null;
  loadavg_before: number[];
}

/** How busy the machine is before a run: other work shares it (2 s of /proc/stat, the load averages). */
export async function machineBefore(): Promise<MachineBefore> {
  const busy = await machineBusy(2000);
  return { busy_pct_before: busy, loadavg_before: loadavg() };
}

/** The machine block of a report: hardware, versions, commit, and its load before and after. */
export function machineInfo(before: MachineBefore, redis: string) {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nats_server: natsServerVersion(),
    redis,
    bullmq: packageVersion('bullmq'),
    commit: commit(),
    ...before,
    loadavg_after: loadavg(),
    note: 'busy_pct_before: share of all CPUs busy during the 2 s before the run (other work on the machine)',
  };
}
