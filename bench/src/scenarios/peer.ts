import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import type { RedisHandle } from '../infra.js';
import { TimeoutError } from '../procs.js';
import { type Distribution, distribution, perSecond, round } from '../stats.js';

/**
 * The peer: BullMQ on a local Redis doing the same tasks (add -> worker -> completed). The worker
 * runs the same echo with the dispatcher's default concurrency (16), in this process; completed
 * jobs are kept, as Orchestra keeps its results. Queues get a per-run prefix and are obliterated
 * afterwards.
 */
export const PEER_CONCURRENCY = 16;

interface Peer {
  queue: Queue;
  flows: FlowProducer;
  worker: Worker;
  completed: number;
  onCompleted: ((job: Job) => void) | undefined;
  stop(): Promise<void>;
}

function start(redis: RedisHandle, name: string): Peer {
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  const prefix = `orchestra-bench-${process.pid}`;
  const queue = new Queue(name, { connection, prefix });
  const flows = new FlowProducer({ connection, prefix });
  const worker = new Worker(name, async (job: Job) => job.data, {
    connection,
    prefix,
    concurrency: PEER_CONCURRENCY,
  });
  const peer: Peer = {
    queue,
    flows,
    worker,
    completed: 0,
    onCompleted: undefined,
    async stop() {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await flows.close();
      await queue.close();
    },
  };
  worker.on('completed', (job) => {
    peer.completed += 1;
    peer.onCompleted?.(job);
  });
  // Connection errors surface as timeouts of the part; an 'error' without a listener would throw.
  worker.on('error', () => undefined);
  queue.on('error', () => undefined);
  flows.on('error', () => undefined);
  return peer;
}

async function until(peer: Peer, count: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (peer.completed < count) {
    if (Date.now() > deadline)
      throw new TimeoutError(`${what}: ${peer.completed} of ${count} jobs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface PeerThroughput {
  tasks: number;
  seconds: number;
  tasks_per_s: number;
}

/** W: `tasks` jobs added in bulk (1,000 per call), timed until the last one completed. */
export async function peerWide(
  redis: RedisHandle,
  tasks: number,
  timeoutMs: number,
): Promise<PeerThroughput> {
  const peer = start(redis, `wide-${Date.now()}`);
  try {
    await peer.worker.waitUntilReady();
    const started = performance.now();
    for (let i = 0; i < tasks; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, tasks - i) }, (_, k) => ({
        name: 'echo',
        data: { i: i + k },
      }));
      await peer.queue.addBulk(batch);
    }
    await until(peer, tasks, timeoutMs, 'BullMQ wide');
    const ms = performance.now() - started;
    return { tasks, seconds: round(ms / 1000, 3), tasks_per_s: perSecond(tasks, ms) };
  } finally {
    await peer.stop();
  }
}

/**
 * M: `executions` flows, each a parent job (the execution) with `tasksEach` children (the
 * tasks), added 100 flows at a time; timed until every parent completed.
 */
export async function peerMany(
  redis: RedisHandle,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
): Promise<PeerThroughput & { executions: number }> {
  const name = `many-${Date.now()}`;
  const peer = start(redis, name);
  try {
    await peer.worker.waitUntilReady();
    let parents = 0;
    peer.onCompleted = (job) => {
      if (job.name === 'execution') parents += 1;
    };
    const started = performance.now();
    for (let e = 0; e < executions; e += 100) {
      const flows = Array.from({ length: Math.min(100, executions - e) }, (_, k) => ({
        name: 'execution',
        queueName: name,
        data: { e: e + k },
        children: Array.from({ length: tasksEach }, (_, t) => ({
          name: 'echo',
          queueName: name,
          data: { i: t },
        })),
      }));
      await peer.flows.addBulk(flows);
    }
    const deadline = Date.now() + timeoutMs;
    while (parents < executions) {
      if (Date.now() > deadline)
        throw new TimeoutError(`BullMQ many: ${parents} of ${executions} flows done`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const ms = performance.now() - started;
    const tasks = executions * tasksEach;
    return { executions, tasks, seconds: round(ms / 1000, 3), tasks_per_s: perSecond(tasks, ms) };
  } finally {
    await peer.stop();
  }
}

export interface PeerChain {
  steps: number;
  seconds: number;
  /**
   * BullMQ's own timestamps: finishedOn of step n+1 - finishedOn of step n, in ms (1 ms
   * resolution). The echo itself takes well under a millisecond, so this is the step's overhead.
   * (processedOn of n+1 - finishedOn of n is 0: the worker takes the parent in the same call.)
   */
  step_overhead_ms: Distribution | null;
  /** Wall time / steps, in ms. */
  per_step_ms: number;
}

/**
 * C: a flow of `steps` nested jobs, each the only child of the next (children complete before
 * their parent), so the steps run one after the other.
 */
export async function peerChain(redis: RedisHandle, steps: number, timeoutMs: number): Promise<PeerChain> {
  const name = `chain-${Date.now()}`;
  const peer = start(redis, name);
  try {
    await peer.worker.waitUntilReady();
    // Step 0 runs first: it is the deepest child.
    type Node = { name: string; queueName: string; data: { step: number }; children?: Node[] };
    let node: Node = { name: 'step', queueName: name, data: { step: 0 } };
    for (let step = 1; step < steps; step++)
      node = { name: 'step', queueName: name, data: { step }, children: [node] };
    const started = performance.now();
    await peer.flows.add(node as Parameters<FlowProducer['add']>[0]);
    await until(peer, steps, timeoutMs, 'BullMQ chain');
    const ms = performance.now() - started;
    const jobs = await peer.queue.getJobs(['completed'], 0, -1);
    const byStep = new Map<number, Job>();
    for (const job of jobs) byStep.set((job.data as { step: number }).step, job);
    const samples: number[] = [];
    for (let step = 0; step + 1 < steps; step++) {
      const done = byStep.get(step)?.finishedOn;
      const next = byStep.get(step + 1)?.finishedOn;
      if (done !== undefined && next !== undefined) samples.push(next - done);
    }
    return {
      steps,
      seconds: round(ms / 1000, 3),
      step_overhead_ms: distribution(samples),
      per_step_ms: round(ms / steps, 3),
    };
  } finally {
    await peer.stop();
  }
}
