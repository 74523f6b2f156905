import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Streams, Subjects } from '@orchestra/contracts';
import type { DurableConsumerConfig } from './provision.js';

/**
 * Settings of the durable consumer a plugin's workers pull their DispatchTask commands from.
 * ORCHESTRA_TASKS is a work queue, where the server allows one consumer per subject ("filtered
 * consumer not unique on workqueue stream"): every worker of a plugin — the TypeScript dispatcher
 * and a worker in any other language — binds this same durable, and whoever finds it missing
 * creates it with exactly these settings (docs/workers.md, "The consumer to bind").
 */
export const TASK_CONSUMER = {
  stream: Streams.tasks,
  /** Short, so a command held by a crashed worker comes back well before typical deadlines. */
  ackWaitMs: 10_000,
  /** A command whose worker keeps crashing is given up; the orchestrator's deadline takes over. */
  maxDeliver: 5,
  /** What a dispatcher of the default concurrency sets; each dispatcher writes its own on start. */
  maxAckPending: 128,
} as const;

/** `dispatch-<plugin>`: the name was the TypeScript dispatcher's first, and consumers outlive code. */
export function taskConsumerName(plugin: string): string {
  // Subjects.tasks refuses a plugin name that is not one subject token; so does the name.
  Subjects.tasks(plugin);
  return `dispatch-${plugin}`;
}

/** The durable consumer of `orchestra.tasks.<plugin>` on ORCHESTRA_TASKS (see TASK_CONSUMER). */
export function taskConsumerConfig(
  plugin: string,
  maxAckPending: number = TASK_CONSUMER.maxAckPending,
): DurableConsumerConfig {
  return {
    durable_name: taskConsumerName(plugin),
    filter_subject: Subjects.tasks(plugin),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: TASK_CONSUMER.ackWaitMs * 1_000_000,
    max_deliver: TASK_CONSUMER.maxDeliver,
    max_ack_pending: maxAckPending,
  };
}
