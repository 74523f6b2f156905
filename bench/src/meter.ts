import { cpuSeconds } from './procs.js';
import { round } from './stats.js';

/** Counters of a server (nats-server's /varz, Redis's INFO) and how to turn two readings into traffic. */
export interface TrafficSource<T> {
  read(): Promise<T>;
  delta(before: T, after: T, tasks: number): Record<string, number>;
}

export interface Usage {
  /** CPU seconds (user + system) each process used; `bench` is the benchmark process itself. */
  cpu_seconds: Record<string, number>;
  /** The same per task (or per step), in ms. */
  cpu_ms_per_task: Record<string, number>;
  /** Traffic through the server, in all and per task (null when it could not be read). */
  server: Record<string, number> | null;
}

/**
 * CPU time of some processes (from /proc/<pid>/stat) and of this one, and a server's traffic,
 * between when the meter is made and `usage()`.
 */
export class Meter<T = unknown> {
  private readonly cpuBefore = new Map<string, number>();
  private readonly ownBefore = process.cpuUsage();
  private readonly trafficBefore: Promise<T | undefined>;

  constructor(
    private readonly pids: () => Record<string, number>,
    private readonly traffic?: TrafficSource<T>,
  ) {
    for (const [name, pid] of Object.entries(pids())) this.cpuBefore.set(name, cpuSeconds(pid) ?? 0);
    this.trafficBefore = traffic ? traffic.read().catch(() => undefined) : Promise.resolve(undefined);
  }

  cpuSeconds(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const now = cpuSeconds(pid);
      if (now !== undefined) out[name] = round(now - (this.cpuBefore.get(name) ?? 0), 3);
    }
    const own = process.cpuUsage(this.ownBefore);
    out.bench = round((own.user + own.system) / 1e6, 3);
    return out;
  }

  async usage(tasks: number): Promise<Usage> {
    const cpu = this.cpuSeconds();
    const perTask: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(cpu))
      perTask[name] = round((seconds * 1000) / Math.max(1, tasks), 3);
    let server: Record<string, number> | null = null;
    const before = await this.trafficBefore;
    if (this.traffic && before !== undefined) {
      const after = await this.traffic.read().catch(() => undefined);
      if (after !== undefined) server = this.traffic.delta(before, after, tasks);
    }
    return { cpu_seconds: cpu, cpu_ms_per_task: perTask, server };
  }
}

/** Runs `run` and adds what the meter measured over it, per task. */
export async function metered<R extends object, T>(
  meter: () => Meter<T>,
  tasks: number,
  run: () => Promise<R>,
): Promise<R & Usage> {
  const m = meter();
  const result = await run();
  return { ...result, ...(await m.usage(tasks)) };
}
