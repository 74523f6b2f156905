import {
  AckPolicy,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { decode, encode } from '@orchestra/bus';
import { round, TimeoutError, withTimeout } from '../procs.js';
import { type Distribution, distribution, perSecond } from '../stats.js';

/**
 * The bare limit: the messaging a task needs with no orchestration at all. A producer publishes
 * a command (JetStream, work queue, file storage, msg id), a worker consumes it, publishes an
 * outcome and acks, a collector consumes the outcome and acks. Everything is pipelined: up to
 * WINDOW publishes wait for their acks at once. Producer, worker and collector have their own
 * connections, in this process.
 */
const WINDOW = 256;

interface Loop {
  tag: string;
  producer: JetStreamClient;
  /** Resolves when `count` outcomes have been collected. */
  collected(count: number, timeoutMs: number): Promise<void>;
  /** Called with each outcome's task id as it is collected. */
  onOutcome: ((taskId: string) => void) | undefined;
  stop(): Promise<void>;
}

/** Keeps at most `size` promises pending; the first failure fails the loop. */
class Window {
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

async function startLoop(url: string): Promise<Loop> {
  const tag = `l${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const connections: NatsConnection[] = [];
  const open = async (name: string) => {
    const nc = await connect({ servers: url, name: `bench-limit-${name}` });
    connections.push(nc);
    return nc;
  };
  const admin = await open('admin');
  const jsm = await jetstreamManager(admin);
  const streams = { tasks: `BENCH_TASKS_${tag}`, outcomes: `BENCH_OUTCOMES_${tag}` };
  for (const [kind, name] of Object.entries(streams)) {
    await jsm.streams.add({
      name,
      subjects: [`bench.${tag}.${kind}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
    });
  }
  await jsm.consumers.add(streams.tasks, {
    durable_name: 'worker',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 20_000,
  });
  await jsm.consumers.add(streams.outcomes, {
    durable_name: 'collector',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 20_000,
  });

  const workerJs = jetstream(await open('worker'));
  const workerMessages = await (await workerJs.consumers.get(streams.tasks, 'worker')).consume({
    max_messages: 512,
  });
  const workerWindow = new Window(WINDOW);
  /** The first error of the worker or the collector loop: the run fails with it. */
  let failure: unknown;
  const worker = (async () => {
    for await (const msg of workerMessages) {
      const command = decode(msg.data) as Record<string, string | number>;
      const outcome = {
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
      };
      const subject = `bench.${tag}.outcomes.${command.execution_id}`;
      await workerWindow.add(
        workerJs
          .publish(subject, encode(outcome), {
            msgID: `${command.execution_id}:${command.task_id}:1:outcome`,
          })
          .then(() => msg.ack()),
      );
    }
  })().catch((error: unknown) => {
    failure ??= error;
  });

  const collectorJs = jetstream(await open('collector'));
  const collectorMessages = await (await collectorJs.consumers.get(streams.outcomes, 'collector')).consume({
    max_messages: 512,
  });
  let count = 0;
  let wake: (() => void) | undefined;
  const loop: Loop = {
    tag,
    producer: jetstream(await open('producer')),
    onOutcome: undefined,
    async collected(target, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < target) {
        if (failure) throw failure;
        if (Date.now() > deadline)
          throw new TimeoutError(`limit: ${count} of ${target} outcomes after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
    async stop() {
      workerMessages.stop();
      collectorMessages.stop();
      await Promise.allSettled([worker, collector]);
      await jsm.streams.delete(streams.tasks).catch(() => undefined);
      await jsm.streams.delete(streams.outcomes).catch(() => undefined);
      for (const nc of connections) await nc.close().catch(() => undefined);
    },
  };
  const collector = (async () => {
    for await (const msg of collectorMessages) {
      const outcome = decode(msg.data) as { task_id: string };
      msg.ack();
      count += 1;
      loop.onOutcome?.(outcome.task_id);
      wake?.();
    }
  })().catch((error: unknown) => {
    failure ??= error;
  });
  return loop;
}

function command(tag: string, execution: number, task: number) {
  const execution_id = `lim-${execution}`;
  return {
    subject: `bench.${tag}.tasks.builtin`,
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

export interface LimitThroughput {
  tasks: number;
  seconds: number;
  tasks_per_s: number;
}

/** `executions × tasksEach` commands through the loop, all published at once (pipelined). */
export async function limitThroughput(
  url: string,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
): Promise<LimitThroughput> {
  const loop = await startLoop(url);
  try {
    const total = executions * tasksEach;
    const started = performance.now();
    const window = new Window(WINDOW);
    for (let e = 0; e < executions; e++) {
      for (let t = 0; t < tasksEach; t++) {
        const { subject, msgID, payload } = command(loop.tag, e, t);
        await window.add(loop.producer.publish(subject, encode(payload), { msgID }));
      }
    }
    await window.drain();
    await loop.collected(total, timeoutMs);
    const ms = performance.now() - started;
    return { tasks: total, seconds: round(ms / 1000, 3), tasks_per_s: perSecond(total, ms) };
  } finally {
    await loop.stop();
  }
}

export interface LimitChain {
  steps: number;
  seconds: number;
  /** Round trip of one step: command published -> outcome collected, in ms. */
  step_ms: Distribution | null;
}

/** `steps` commands one after the other: each is published when the previous outcome is collected. */
export async function limitChain(url: string, steps: number, timeoutMs: number): Promise<LimitChain> {
  const loop = await startLoop(url);
  try {
    const samples: number[] = [];
    const started = performance.now();
    const deadline = Date.now() + timeoutMs;
    for (let step = 0; step < steps; step++) {
      if (Date.now() > deadline)
        throw new TimeoutError(`limit chain: ${step} of ${steps} steps after ${timeoutMs} ms`);
      const { subject, msgID, payload } = command(loop.tag, 0, step);
      const t0 = performance.now();
      const collected = new Promise<void>((resolve) => {
        loop.onOutcome = (taskId) => {
          if (taskId === payload.task_id) resolve();
        };
      });
      await loop.producer.publish(subject, encode(payload), { msgID });
      await withTimeout(collected, Math.max(1, deadline - Date.now()), `limit chain step ${step}`);
      samples.push(performance.now() - t0);
    }
    const ms = performance.now() - started;
    return { steps, seconds: round(ms / 1000, 3), step_ms: distribution(samples) };
  } finally {
    await loop.stop();
  }
}
