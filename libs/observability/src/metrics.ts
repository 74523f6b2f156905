import type { ExecutionEvent, TaskOutcome } from '@orchestra/contracts';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { consumerLag } from './services.js';

/** Seconds: from a few milliseconds (an echo task, a quick decision) to ten minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds: orchestration overhead is milliseconds when healthy, seconds under backlog or outage. */
const OVERHEAD_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The Prometheus metrics of one process (`/metrics`). Every service of the process writes to the
 * same registry, as the process has one HTTP endpoint; names never collide between services.
 */
export class OrchestraMetrics {
  readonly registry = new Registry();

  // orchestrator: counted from stored events, once per event (the `orchestrator-effects` consumer)
  readonly events = this.counter('orchestra_events_total', 'Execution events stored, by type', ['type']);
  readonly executionsStarted = this.counter('orchestra_executions_started_total', 'Executions started');
  readonly executionsFinished = this.counter(
    'orchestra_executions_finished_total',
    'Executions finished, by status (completed, partial, failed, cancelled, rejected)',
    ['status'],
  );
  readonly retries = this.counter('orchestra_task_retries_total', 'Retry attempts dispatched', ['plugin']);
  readonly fallbacks = this.counter(
    'orchestra_task_fallbacks_total',
    'Fallback attempts dispatched, by fallback plugin',
    ['plugin'],
  );
  readonly timeouts = this.counter('orchestra_task_timeouts_total', 'Task attempts timed out', ['plugin']);
  readonly occConflicts = this.counter(
    'orchestra_occ_conflicts_total',
    'Appends refused by optimistic concurrency (another writer got there first), each followed by a re-decision',
  );
  readonly overhead = new Histogram({
    name: 'orchestra_orchestration_overhead_seconds',
    help:
      "From a task attempt's end (the outcome's finished_at, stamped by the dispatcher) to the stored " +
      'decision dispatching the next attempt(s) it caused',
    buckets: OVERHEAD_BUCKETS,
    registers: [this.registry],
  });
  readonly dispatchDelay = new Histogram({
    name: 'orchestra_dispatch_publish_delay_seconds',
    help: 'From the decision recording a TaskDispatched event to its DispatchTask being published (the outbox)',
    buckets: OVERHEAD_BUCKETS,
    registers: [this.registry],
  });

  // dispatcher
  readonly tasksRunning = new Gauge({
    name: 'orchestra_tasks_running',
    help: 'Task attempts running in this process, by plugin',
    labelNames: ['plugin'],
    registers: [this.registry],
  });
  readonly tasksFinished = this.counter(
    'orchestra_tasks_finished_total',
    'Task attempts run by this process, by plugin and status (succeeded, failed, aborted)',
    ['plugin', 'status'],
  );
  readonly taskDuration = new Histogram({
    name: 'orchestra_task_duration_seconds',
    help: 'Run time of task attempts on their plugin, by plugin and status',
    labelNames: ['plugin', 'status'],
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  // every service
  readonly deadLetters = this.counter(
    'orchestra_dead_letters_total',
    'Messages moved to the dead letters, by the stream they came from',
    ['stream'],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    consumerLag(this.registry);
  }

  /** Counts one stored event (called once per event, after its effects are published). */
  eventStored(event: ExecutionEvent, now: number): void {
    this.events.inc({ type: event.type });
    switch (event.type) {
      case 'ExecutionStarted':
        this.executionsStarted.inc();
        break;
      case 'ExecutionFinished':
        this.executionsFinished.inc({ status: event.status });
        break;
      case 'ExecutionRejected':
        this.executionsFinished.inc({ status: 'rejected' });
        break;
      case 'TaskDispatched':
        if (event.kind === 'retry') this.retries.inc({ plugin: event.plugin });
        if (event.kind === 'fallback') this.fallbacks.inc({ plugin: event.plugin });
        this.dispatchDelay.observe(seconds(now - event.at));
        break;
      case 'TaskTimedOut':
        this.timeouts.inc({ plugin: event.plugin_used });
        break;
      default:
        break;
    }
  }

  /** Orchestration overhead: an outcome's decision that dispatched something was stored at `now`. */
  outcomeDecided(outcome: TaskOutcome, events: readonly ExecutionEvent[], now: number): void {
    if (dispatchesIn(events)) this.overhead.observe(seconds(now - outcome.finished_at));
  }

  /** A task attempt ended on its plugin (aborted: cancelled or past its deadline, nothing answered). */
  taskFinished(plugin: string, status: 'succeeded' | 'failed' | 'aborted', durationMs: number): void {
    this.tasksFinished.inc({ plugin, status });
    this.taskDuration.observe({ plugin, status }, seconds(durationMs));
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

/**
 * Whether a decision dispatched anything. The outcomes decided together share one events array
 * (a batch of hundreds): it is scanned once, not once per outcome.
 */
const dispatched = new WeakMap<readonly ExecutionEvent[], boolean>();
function dispatchesIn(events: readonly ExecutionEvent[]): boolean {
  let known = dispatched.get(events);
  if (known === undefined) {
    known = events.some((event) => event.type === 'TaskDispatched');
    dispatched.set(events, known);
  }
  return known;
}

/** Clocks of two processes may disagree: a negative span is reported as zero. */
function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}

let processMetrics: OrchestraMetrics | undefined;

/** The metrics of this process, created on first use. */
export function orchestraMetrics(): OrchestraMetrics {
  processMetrics ??= new OrchestraMetrics();
  return processMetrics;
}
