import type { ExecutionResults } from '@orchestra/contracts';
import { type ServerStats, serverDelta } from '../infra.js';
import { cpuSeconds, epochMs, round, sleep } from '../procs.js';
import { type OrchestraSystem, ResultsWaiter, SERVICE_NAMES, type SeenEvent } from '../system.js';

/**
 * Follows executions through the events going by (a core subscription on `orchestra.events.>`)
 * and the results bucket: when each started, finished (ExecutionFinished went by) and had final
 * `execution_results` in the bucket, which is where an execution ends for the benchmark.
 */
export class Tracker {
  readonly submittedAt = new Map<string, number>();
  readonly startedAt = new Map<string, number>();
  readonly finishedAt = new Map<string, number>();
  readonly rejected = new Map<string, string>();
  readonly lastEventAt = new Map<string, number>();
  /** Per execution, the first event seen at or after `markAt` (see mark()). */
  readonly firstAfterMark = new Map<string, number>();
  succeeded = 0;
  events = 0;
  private markAt = Number.POSITIVE_INFINITY;
  private readonly waiter: ResultsWaiter;
  private readonly cpuBefore = new Map<string, number>();
  private readonly serverBefore: Promise<ServerStats | undefined>;

  constructor(private readonly system: OrchestraSystem) {
    this.waiter = new ResultsWaiter(system);
    system.watchEvents((seen) => this.onEvent(seen));
    for (const name of SERVICE_NAMES) this.cpuBefore.set(name, cpuSeconds(system.pid(name)) ?? 0);
    this.cpuBefore.set('nats-server', cpuSeconds(system.nats.pid) ?? 0);
    this.serverBefore = system.nats.stats().catch(() => undefined);
  }

  /**
   * What went through the nats-server since the tracker was made, in all and per task: messages
   * in and out, kB in and out, JetStream API requests (stream and consumer info, message gets,
   * consumer creation...; publishes are not API requests).
   */
  async server(tasks: number): Promise<Record<string, number> | null> {
    const before = await this.serverBefore;
    const after = await this.system.nats.stats().catch(() => undefined);
    if (!before || !after) return null;
    return serverDelta(before, after, tasks);
  }

  private onEvent({ event, seenAt }: SeenEvent): void {
    const id = event.execution_id;
    this.events += 1;
    this.lastEventAt.set(id, seenAt);
    if (seenAt >= this.markAt && !this.firstAfterMark.has(id)) this.firstAfterMark.set(id, seenAt);
    switch (event.type) {
      case 'ExecutionStarted':
        this.startedAt.set(id, seenAt);
        break;
      case 'TaskSucceeded':
        this.succeeded += 1;
        break;
      case 'ExecutionFinished':
        this.finishedAt.set(id, seenAt);
        this.waiter.finished(id);
        break;
      case 'ExecutionRejected':
        this.rejected.set(
          id,
          `${event.reason}: ${event.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        );
        this.waiter.finished(id);
        break;
      default:
        break;
    }
  }

  /** From now on, record each execution's first event (restart recovery). */
  mark(at = epochMs()): void {
    this.markAt = at;
    this.firstAfterMark.clear();
  }

  async submit(executionId: string, plan: unknown): Promise<void> {
    this.submittedAt.set(executionId, epochMs());
    await this.system.execute(plan, executionId);
  }

  /** Submits every plan, at most `window` publishes awaiting their acks at once. */
  async submitAll(plans: Array<{ id: string; plan: unknown }>, window = 64): Promise<void> {
    for (let i = 0; i < plans.length; i += window) {
      await Promise.all(plans.slice(i, i + window).map(({ id, plan }) => this.submit(id, plan)));
    }
  }

  results(executionId: string): { at: number; results: ExecutionResults } | undefined {
    return this.waiter.get(executionId);
  }

  get done(): number {
    return this.waiter.count;
  }

  /** Waits until `count` executions have final results, or until `deadline` (epoch ms). */
  async waitDone(count: number, deadline: number, onTick?: () => void): Promise<boolean> {
    while (this.waiter.count < count) {
      if (Date.now() > deadline) return false;
      await this.waiter.poll();
      onTick?.();
      await sleep(20);
    }
    return true;
  }

  /** CPU seconds each service process used since the tracker was made. */
  cpu(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of SERVICE_NAMES) {
      const now = cpuSeconds(this.system.pid(name));
      if (now !== undefined) out[name] = round(now - (this.cpuBefore.get(name) ?? 0), 2);
    }
    const nats = cpuSeconds(this.system.nats.pid);
    if (nats !== undefined) out['nats-server'] = round(nats - (this.cpuBefore.get('nats-server') ?? 0), 2);
    return out;
  }
}
