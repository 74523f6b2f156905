import { decode, encode } from '@orchestra/bus';
import { TimeoutError, withTimeout } from '../procs.js';
import { type Distribution, distribution, round } from '../stats.js';
import {
  Collected,
  type Command,
  command,
  type LoopStreams,
  type LoopThroughput,
  openLoop,
  outcomeOf,
  timeThroughput,
  WINDOW,
  Window,
} from './loop.js';

/**
 * The bare limit: the messaging a task needs with no orchestration at all. A producer publishes
 * a command (JetStream, work queue, file storage, msg id), a worker consumes it, publishes an
 * outcome and acks, a collector consumes the outcome and acks. Everything is pipelined: up to
 * WINDOW publishes wait for their acks at once. Producer, worker and collector have their own
 * connections, in this process.
 */
interface Loop {
  streams: LoopStreams;
  collected: Collected;
  /** Called with each outcome's task id as it is collected. */
  onOutcome: ((taskId: string) => void) | undefined;
  stop(): Promise<void>;
}

async function startLoop(url: string): Promise<Loop> {
  const streams = await openLoop(url, 'limit');
  const collected = new Collected();
  const workerWindow = new Window(WINDOW);
  const worker = (async () => {
    for await (const msg of streams.workerMessages) {
      const task = decode(msg.data) as Command;
      const { msgID, payload } = outcomeOf(task);
      await workerWindow.add(
        streams.worker
          .publish(streams.outcomeSubject(task.execution_id), payload, { msgID })
          .then(() => msg.ack()),
      );
    }
  })().catch((error: unknown) => collected.fail(error));
  const loop: Loop = {
    streams,
    collected,
    onOutcome: undefined,
    async stop() {
      streams.workerMessages.stop();
      streams.collectorMessages.stop();
      await Promise.allSettled([worker, collector]);
      await streams.close();
    },
  };
  const collector = (async () => {
    for await (const msg of streams.collectorMessages) {
      const outcome = decode(msg.data) as { task_id: string };
      msg.ack();
      collected.add();
      loop.onOutcome?.(outcome.task_id);
    }
  })().catch((error: unknown) => collected.fail(error));
  return loop;
}

/** `executions × tasksEach` commands through the loop, all published at once (pipelined). */
export async function limitThroughput(
  url: string,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
): Promise<LoopThroughput> {
  const loop = await startLoop(url);
  const { producer, tasksSubject } = loop.streams;
  try {
    return await timeThroughput(
      loop.collected,
      executions,
      tasksEach,
      timeoutMs,
      'limit',
      async (e, window) => {
        for (let t = 0; t < tasksEach; t++) {
          const { subject, msgID, payload } = command(tasksSubject, e, t);
          await window.add(producer.publish(subject, encode(payload), { msgID }));
        }
      },
    );
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
      const { subject, msgID, payload } = command(loop.streams.tasksSubject, 0, step);
      const t0 = performance.now();
      const collected = new Promise<void>((resolve) => {
        loop.onOutcome = (taskId) => {
          if (taskId === payload.task_id) resolve();
        };
      });
      await loop.streams.producer.publish(subject, encode(payload), { msgID });
      await withTimeout(collected, Math.max(1, deadline - Date.now()), `limit chain step ${step}`);
      samples.push(performance.now() - t0);
    }
    const ms = performance.now() - started;
    return { steps, seconds: round(ms / 1000, 3), step_ms: distribution(samples) };
  } finally {
    await loop.stop();
  }
}
