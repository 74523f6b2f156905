import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { encode } from '@orchestra/bus';
import { TimeoutError } from '../procs.js';
import { perSecond, round } from '../stats.js';

/**
 * What the two bare loops (the limit and the batched loop) share: their streams, connections,
 * messages and the count of collected outcomes. Everything runs in the benchmark process, with
 * a connection each for the producer, the worker and the collector.
 */

/** Publishes that may await their PubAck at once. */
export const WINDOW = 256;

/** Keeps at most `size` promises pending; the first failure fails the loop. */
export class Window {
  private readonly pending = new Set<Promise<unknown>>();
  private failure: unknown;
  constructor(private readonly size: number) {}

  async add(promise: Promise<unknown>): Promise<void> {
    if (this.failure) throw this.failure;
    const tracked: Promise<unknown> = promise.then(
      (): void => {
        this.pending.delete(tracked);
      },
      (error: unknown): void => {
        this.failure ??= error;
        this.pending.delete(tracked);
      },
    );
    this.pending.add(tracked);
    while (this.pending.size >= this.size) await Promise.race(this.pending);
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
  }
}

export type MessageCallback = (msg: JsMsg) => void;

export interface LoopStreams {
  tag: string;
  jsm: JetStreamManager;
  producer: JetStreamClient;
  worker: JetStreamClient;
  collector: JetStreamClient;
  workerMessages: ConsumerMessages;
  collectorMessages: ConsumerMessages;
  tasksSubject: string;
  outcomeSubject(executionId: string): string;
  eventsSubject(executionId: string): string;
  close(): Promise<void>;
}

/**
 * Opens the streams and consumers of a loop. The limit's are work queues with explicit acks,
 * as Orchestra's. The batched loop acks a whole batch with one AckAll, which nats-server refuses
 * on a work-queue stream (it requires explicit acks): its streams use interest retention
 * instead, which removes a message once its one consumer has acked it, as a work queue does.
 * It also has an events stream (limits retention, a subject per execution) for its records.
 * `callbacks` hands the messages to callbacks instead of async iterators.
 */
export async function openLoop(
  url: string,
  kind: 'limit' | 'batched',
  callbacks?: { worker: MessageCallback; collector: MessageCallback },
): Promise<LoopStreams> {
  const tag = `${kind[0]}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const connections: NatsConnection[] = [];
  const open = async (name: string) => {
    const nc = await connect({ servers: url, name: `bench-${kind}-${name}`, noAsyncTraces: true });
    connections.push(nc);
    return nc;
  };
  const jsm = await jetstreamManager(await open('admin'));
  const batched = kind === 'batched';
  const streams = {
    tasks: `BENCH_TASKS_${tag}`,
    outcomes: `BENCH_OUTCOMES_${tag}`,
    events: `BENCH_EVENTS_${tag}`,
  };
  const names = batched ? (['tasks', 'outcomes', 'events'] as const) : (['tasks', 'outcomes'] as const);
  for (const kindOf of names) {
    await jsm.streams.add({
      name: streams[kindOf],
      subjects: [`bench.${tag}.${kindOf}.>`],
      retention:
        kindOf === 'events'
          ? RetentionPolicy.Limits
          : batched
            ? RetentionPolicy.Interest
            : RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(kindOf === 'events' ? 30_000 : 120_000),
    });
  }
  const ack_policy = batched ? AckPolicy.All : AckPolicy.Explicit;
  await jsm.consumers.add(streams.tasks, { durable_name: 'worker', ack_policy, max_ack_pending: 20_000 });
  await jsm.consumers.add(streams.outcomes, {
    durable_name: 'collector',
    ack_policy,
    max_ack_pending: 20_000,
  });
  const worker = jetstream(await open('worker'));
  const collector = jetstream(await open('collector'));
  const consume = async (js: JetStreamClient, stream: string, durable: string, callback?: MessageCallback) =>
    (await js.consumers.get(stream, durable)).consume({
      max_messages: 512,
      ...(callback ? { callback } : {}),
    });
  const workerMessages = await consume(worker, streams.tasks, 'worker', callbacks?.worker);
  const collectorMessages = await consume(collector, streams.outcomes, 'collector', callbacks?.collector);
  return {
    tag,
    jsm,
    producer: jetstream(await open('producer')),
    worker,
    collector,
    workerMessages,
    collectorMessages,
    tasksSubject: `bench.${tag}.tasks.builtin`,
    outcomeSubject: (executionId) => `bench.${tag}.outcomes.${executionId}`,
    eventsSubject: (executionId) => `bench.${tag}.events.${executionId}`,
    async close() {
      workerMessages.stop();
      collectorMessages.stop();
      for (const name of names) await jsm.streams.delete(streams[name]).catch(() => undefined);
      for (const nc of connections) await nc.close().catch(() => undefined);
    },
  };
}

export type Command = ReturnType<typeof command>['payload'];

/** A command shaped like Orchestra's DispatchTask, with its msg id. */
export function command(subject: string, execution: number, task: number) {
  const execution_id = `lim-${execution}`;
  return {
    subject,
    msgID: `${execution_id}:t${task}:1`,
    payload: {
      type: 'DispatchTask',
      execution_id,
      plan_id: 'bench-limit',
      phase_id: 'p1',
      task_id: `t${task}`,
      attempt_number: 1,
      plugin: 'builtin',
      description: 'echo',
      entry_point: { type: 'function', value: 'echo' },
      input_context: { i: task },
      output_key: `o${task}`,
      dispatched_at: Date.now(),
      deadline_at: Date.now() + 60_000,
    },
  };
}

/** The worker's echo: an outcome shaped like Orchestra's TaskOutcome, with its msg id. */
export function outcomeOf(command: Command) {
  return {
    msgID: `${command.execution_id}:${command.task_id}:1:outcome`,
    payload: encode({
      type: 'TaskOutcome',
      status: 'succeeded',
      execution_id: command.execution_id,
      phase_id: command.phase_id,
      task_id: command.task_id,
      attempt_number: command.attempt_number,
      plugin_used: command.plugin,
      output: command.input_context,
      duration_ms: 0,
      finished_at: Date.now(),
    }),
  };
}

/** Outcomes collected so far; `wait` resolves at a count, and fails with the loop's first error. */
export class Collected {
  count = 0;
  failure: unknown;
  private wake: (() => void) | undefined;

  add(n = 1): void {
    this.count += n;
    this.wake?.();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.wake?.();
  }

  async wait(target: number, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count < target) {
      if (this.failure) throw this.failure;
      if (Date.now() > deadline)
        throw new TimeoutError(`${what}: ${this.count} of ${target} outcomes after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    if (this.failure) throw this.failure;
  }
}

export interface LoopThroughput {
  tasks: number;
  seconds: number;
  tasks_per_s: number;
}

/** Times `dispatch` of `executions × tasksEach` tasks until every outcome is collected. */
export async function timeThroughput(
  collected: Collected,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
  what: string,
  dispatch: (execution: number, window: Window) => Promise<void>,
): Promise<LoopThroughput> {
  const total = executions * tasksEach;
  const started = performance.now();
  const window = new Window(WINDOW);
  for (let e = 0; e < executions; e++) await dispatch(e, window);
  await window.drain();
  await collected.wait(total, timeoutMs, what);
  const ms = performance.now() - started;
  return { tasks: total, seconds: round(ms / 1000, 3), tasks_per_s: perSecond(total, ms) };
}
