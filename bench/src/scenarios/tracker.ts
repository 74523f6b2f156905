import type { ExecutionResults } from '@orchestra/contracts';
import { Meter, type Usage } from '../meter.js';
import { epochMs, sleep } from '../procs.js';
import { OBSERVER, type OrchestraSystem, ResultsWaiter, type SeenEvent } from '../system.js';
import { type ServerStats, serverDelta } from '../traffic.js';

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
  /** Called with every event as it goes by, after the tracker's own bookkeeping. */
  onSeen: ((seen: SeenEvent) => void) | undefined;
  private markAt = Number.POSITIVE_INFINITY;
  private readonly waiter: ResultsWaiter;
  private readonly meter: Meter<ServerStats>;

  constructor(private readonly system: OrchestraSystem) {
    this.waiter = new ResultsWaiter(system);
    system.watchEvents((seen) => this.onEvent(seen));
    this.meter = new Meter(() => system.pids(), {
      read: () => system.nats.stats(),
      delta: (before, after, tasks) => serverDelta(before, after, tasks, [OBSERVER]),
    });
  }

  /**
   * Since the tracker was made: CPU of each service, of the nats-server and of the benchmark
   * process (which only watches), and what went through the nats-server, in all and per task:
   * messages in and out, kB in and out, JetStream API requests (stream and consumer info, message
   * gets, consumer creation...; publishes are not API requests). The benchmark's watching
   * connection (copies of the messages, results polls) is left out of the messages and bytes, not
   * of the API requests (the server counts those for all).
   */
  usage(tasks: number): Promise<Usage> {
    return this.meter.usage(tasks);
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
    this.onSeen?.({ event, seenAt });
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

  /** Looks for final results of the executions whose ExecutionFinished went by (once). */
  poll(): Promise<void> {
    return this.waiter.poll();
  }

  /**
   * Looks once for the results of these executions even if their ExecutionFinished was not seen:
   * the watching connection can miss events (a slow consumer cut off by the server).
   */
  checkResults(executionIds: string[]): Promise<void> {
    return this.waiter.poll(executionIds);
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
}
