import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { decode, encode } from '@orchestra/bus';
import { epochMs } from '../procs.js';
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
  type Window,
} from './loop.js';

/**
 * The batched bare loop: the limit's messaging plus an event log, batched as Orchestra may batch
 * it, with no orchestration. What batching can buy on this machine, and what the log costs:
 *
 * - producer: per execution, one record (ExecutionStarted and a TaskDispatched per task, one
 *   message) appended with the expected last subject sequence, then, once its PubAck is back
 *   (append before effect), the commands;
 * - worker: commands delivered while the previous group is being answered form the next group;
 *   a group's outcomes are published pipelined and, when every PubAck is back, the group is
 *   acked by one AckAll on its last command;
 * - collector: outcomes delivered while the previous group is being recorded form the next
 *   group; one record per execution of the group (a TaskSucceeded per outcome, ExecutionFinished
 *   with the last task, a TaskDispatched per follow-up task), the follow-up commands published
 *   after its PubAck, then one AckAll.
 *
 * AckAll is only safe for one consumer process per durable handling its messages in order: with
 * several replicas on one durable, one replica's AckAll would ack the others' messages.
 */
class GroupCommit {
  private pending: JsMsg[] = [];
  private running = false;

  constructor(
    private readonly flush: (group: JsMsg[]) => Promise<void>,
    private readonly fail: (error: unknown) => void,
  ) {}

  push(msg: JsMsg): void {
    this.pending.push(msg);
    // Started after the I/O callbacks: every message of the same read joins the group.
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.run());
    }
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        await this.flush(group);
        // AckAll acknowledges every message delivered up to the last one of the group.
        group[group.length - 1]?.ack();
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.running = false;
    }
  }
}

interface Loop {
  streams: LoopStreams;
  collected: Collected;
  /** When each task's outcome was recorded (epoch ms), by task id. */
  recordedAt: Map<string, number>;
  /** Appends the first record of an execution and, after its PubAck, publishes its commands. */
  dispatch(execution: number, tasks: number[], window?: Window): Promise<void>;
  stop(): Promise<void>;
}

type Event = Record<string, unknown> & { type: string; execution_id: string };

const dispatched = (task: Command): Event => ({
  type: 'TaskDispatched',
  execution_id: task.execution_id,
  phase_id: task.phase_id,
  task_id: task.task_id,
  attempt_number: 1,
  at: Date.now(),
  deadline_at: task.deadline_at,
});

/**
 * `tasksEach`: tasks per execution (ExecutionFinished goes with the last). `next`: the task to
 * dispatch when a task succeeds (a chain), if any.
 */
async function startLoop(url: string, tasksEach: number, next?: (task: number) => number | undefined) {
  const lastSeq = new Map<string, number>();
  const succeeded = new Map<string, number>();
  const collected = new Collected();
  const recordedAt = new Map<string, number>();
  let opened: LoopStreams | undefined;
  // The group commits are made before the consumers (their callbacks), and run after they are.
  const streams = () => {
    if (!opened) throw new Error('batched loop: not open yet');
    return opened;
  };
  const append = async (js: JetStreamClient, executionId: string, events: Event[]) => {
    const expected = lastSeq.get(executionId) ?? 0;
    const ack = await js.publish(streams().eventsSubject(executionId), encode(events), {
      msgID: `${executionId}:${expected}`,
      expect: { lastSubjectSequence: expected },
    });
    lastSeq.set(executionId, ack.seq);
  };
  const fail = (error: unknown) => collected.fail(error);
  const worker = new GroupCommit(async (group) => {
    const { worker: js, outcomeSubject } = streams();
    await Promise.all(
      group.map((msg) => {
        const task = decode(msg.data) as Command;
        const { msgID, payload } = outcomeOf(task);
        return js.publish(outcomeSubject(task.execution_id), payload, { msgID });
      }),
    );
  }, fail);
  const collector = new GroupCommit(async (group) => {
    const { collector: js, tasksSubject } = streams();
    const records = new Map<string, Event[]>();
    const followUps: ReturnType<typeof command>[] = [];
    const taskIds: string[] = [];
    for (const msg of group) {
      const outcome = decode(msg.data) as Command & { output: unknown };
      const { execution_id: id, task_id } = outcome;
      taskIds.push(task_id);
      const events = records.get(id) ?? [];
      records.set(id, events);
      events.push({
        type: 'TaskSucceeded',
        execution_id: id,
        task_id,
        output: outcome.output,
        at: Date.now(),
      });
      const done = (succeeded.get(id) ?? 0) + 1;
      succeeded.set(id, done);
      const following = next?.(Number(task_id.slice(1)));
      if (following !== undefined) {
        const follow = command(tasksSubject, Number(id.slice(4)), following);
        followUps.push(follow);
        events.push(dispatched(follow.payload));
      } else if (done === tasksEach)
        events.push({ type: 'ExecutionFinished', execution_id: id, at: Date.now() });
    }
    await Promise.all([...records].map(([id, events]) => append(js, id, events)));
    const at = epochMs();
    for (const taskId of taskIds) recordedAt.set(taskId, at);
    await Promise.all(
      followUps.map(({ subject, msgID, payload }) => js.publish(subject, encode(payload), { msgID })),
    );
    collected.add(group.length);
  }, fail);
  opened = await openLoop(url, 'batched', {
    worker: (msg) => worker.push(msg),
    collector: (msg) => collector.push(msg),
  });
  const loop: Loop = {
    streams: opened,
    collected,
    recordedAt,
    async dispatch(execution, tasks, window) {
      const { producer, tasksSubject } = streams();
      const commands = tasks.map((t) => command(tasksSubject, execution, t));
      const id = `lim-${execution}`;
      const first: Event[] = [{ type: 'ExecutionStarted', execution_id: id, at: Date.now() }];
      const appended = append(producer, id, [...first, ...commands.map((c) => dispatched(c.payload))]);
      const publish = ({ subject, msgID, payload }: (typeof commands)[number]) =>
        appended.then(() => producer.publish(subject, encode(payload), { msgID }));
      if (!window) {
        await Promise.all(commands.map(publish));
        return;
      }
      await window.add(appended);
      for (const c of commands) await window.add(publish(c));
    },
    stop: () => streams().close(),
  };
  return loop;
}

/** `executions × tasksEach` tasks: each execution's record, then its commands, pipelined. */
export async function batchedThroughput(
  url: string,
  executions: number,
  tasksEach: number,
  timeoutMs: number,
): Promise<LoopThroughput> {
  const loop = await startLoop(url, tasksEach);
  const tasks = Array.from({ length: tasksEach }, (_, t) => t);
  try {
    return await timeThroughput(loop.collected, executions, tasksEach, timeoutMs, 'batched', (e, window) =>
      loop.dispatch(e, tasks, window),
    );
  } finally {
    await loop.stop();
  }
}

export interface BatchedChain {
  steps: number;
  seconds: number;
  /** One turn of the chain: outcome n recorded -> outcome n+1 recorded, in ms. */
  step_ms: Distribution | null;
}

/**
 * A chain of `steps` tasks: the collector records outcome n with TaskDispatched n+1 in one
 * record and then publishes command n+1, as Orchestra's decision does.
 */
export async function batchedChain(url: string, steps: number, timeoutMs: number): Promise<BatchedChain> {
  const loop = await startLoop(url, steps, (task) => (task + 1 < steps ? task + 1 : undefined));
  try {
    const t0 = performance.now();
    await loop.dispatch(0, [0]);
    await loop.collected.wait(steps, timeoutMs, 'batched chain');
    const ms = performance.now() - t0;
    const samples: number[] = [];
    for (let step = 1; step < steps; step++) {
      const at = loop.recordedAt.get(`t${step}`);
      const previous = loop.recordedAt.get(`t${step - 1}`);
      if (at !== undefined && previous !== undefined) samples.push(at - previous);
    }
    return { steps, seconds: round(ms / 1000, 3), step_ms: distribution(samples) };
  } finally {
    await loop.stop();
  }
}
