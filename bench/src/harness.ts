import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisHandle, startNats } from './infra.js';
import { Meter, metered, type Usage } from './meter.js';
import { epochMs } from './procs.js';
import { type ProfileSummary, summarizeProfile } from './profile.js';
import type { Row, TargetCheck } from './report.js';
import { OrchestraSystem } from './system.js';

export const SCENARIOS = ['W', 'C', 'M', 'R', 'S'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Sizes {
  wide: number;
  chain: number;
  many: number;
  manyTasks: number;
  replay: number;
  replaySample: number;
  restart: number;
  restartSteps: number;
}
export const FULL: Sizes = {
  wide: 10_000,
  chain: 200,
  many: 1_000,
  manyTasks: 10,
  replay: 1_000_000,
  replaySample: 200,
  restart: 1_000,
  restartSteps: 10,
};
export const QUICK: Sizes = {
  wide: 2_000,
  chain: 50,
  many: 200,
  manyTasks: 10,
  replay: 100_000,
  replaySample: 50,
  restart: 200,
  restartSteps: 5,
};
/** Time budget of each part (limit, peer, Orchestra) of a scenario, in ms. */
export const BUDGET_MS: Record<'full' | 'quick', Record<Scenario, number>> = {
  full: { W: 600_000, C: 300_000, M: 600_000, R: 600_000, S: 600_000 },
  quick: { W: 180_000, C: 60_000, M: 90_000, R: 60_000, S: 90_000 },
};

export interface Context {
  sizes: Sizes;
  budgetMs: Record<Scenario, number>;
  redis: RedisHandle | undefined;
  profileDir: string | undefined;
  log: (line: string) => void;
}

export interface ScenarioResult {
  data: Record<string, unknown>;
  rows: Row[];
  checks: TargetCheck[];
}

export type Errors = Record<string, string>;

/** Runs one part of a scenario; a failure is recorded and the rest of the run goes on. */
export async function part<T>(
  ctx: Context,
  errors: Errors,
  name: string,
  run: () => Promise<T>,
): Promise<T | null> {
  const started = Date.now();
  ctx.log(`  ${name} ...`);
  try {
    const result = await run();
    const timedOut = (result as { timed_out?: unknown } | null)?.timed_out === true;
    if (timedOut) errors[name] = 'timed out: its figures are partial (a rate is then an upper bound)';
    ctx.log(
      `  ${name} ${timedOut ? 'TIMED OUT' : 'done'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return result;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    errors[name] = message;
    ctx.log(`  ${name} FAILED: ${message}`);
    return null;
  }
}

/**
 * Runs a bare loop against a nats-server of its own, and adds the traffic it caused and the CPU
 * of the server and of this process (where the loop runs), per task.
 */
export async function withNats<T extends object>(
  tasks: number,
  run: (url: string) => Promise<T>,
): Promise<T & Usage> {
  const nats = await startNats();
  try {
    const meter = () => new Meter(() => ({ 'nats-server': nats.pid }), nats.traffic);
    return await metered(meter, tasks, () => run(nats.url));
  } finally {
    await nats.stop();
  }
}

/** Runs the peer on `redis`, and adds Redis's traffic and the CPU of redis-server and of this process, per task. */
export function withRedis<T extends object>(
  redis: RedisHandle | undefined,
  tasks: number,
  run: (redis: RedisHandle) => Promise<T>,
): Promise<T & Usage> {
  if (!redis) throw new Error('no Redis: the peer cannot run');
  return metered(
    () => new Meter(() => ({ 'redis-server': redis.pid }), redis.traffic),
    tasks,
    () => run(redis),
  );
}

/**
 * Runs `run` on a fresh system. With --profile, each service's CPU profile is summarized over
 * the scenario's window only (from when `run` starts to when it ends), not the process's boot.
 */
export async function withSystem<T>(
  ctx: Context,
  scenario: Scenario,
  profiles: Record<string, ProfileSummary[]>,
  run: (system: OrchestraSystem) => Promise<T>,
): Promise<T> {
  const profileDir = ctx.profileDir ? join(ctx.profileDir, scenario) : undefined;
  const system = await OrchestraSystem.start({ profileDir });
  const from = epochMs();
  let to = from;
  try {
    const result = await run(system);
    to = epochMs();
    return result;
  } finally {
    if (to === from) to = epochMs();
    await system.stop();
    for (const { service, file, spawnedAt } of system.profiles) {
      if (!existsSync(file)) continue;
      const window = { fromMs: Math.max(0, from - spawnedAt), toMs: to - spawnedAt };
      profiles[service] = [...(profiles[service] ?? []), summarizeProfile(file, window)];
    }
  }
}
