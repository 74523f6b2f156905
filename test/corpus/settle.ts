import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { Streams } from '@orchestra/contracts';

const CONSUMED = [Streams.commands, Streams.tasks, Streams.outcomes, Streams.timers, Streams.events];

/** The durable consumers of Orchestra's streams (ordered, ephemeral readers left out). */
export async function durableConsumers(jsm: JetStreamManager): Promise<ConsumerInfo[]> {
  const found: ConsumerInfo[] = [];
  for (const stream of CONSUMED) {
    for await (const info of jsm.consumers.list(stream)) {
      if (info.config.durable_name) found.push(info);
    }
  }
  return found;
}

/**
 * True when every durable consumer has delivered everything, holds nothing unacknowledged and
 * nothing it is redelivering. `held` names consumers allowed to hold work that is legitimately
 * in progress (a running task, timers not due yet), and how many messages each may hold.
 */
export async function consumersSettled(
  jsm: JetStreamManager,
  held: Record<string, number> = {},
): Promise<boolean> {
  for (const info of await durableConsumers(jsm)) {
    if (info.num_pending > 0 || info.num_redelivered > 0) return false;
    if (info.num_ack_pending > (held[info.name] ?? 0)) return false;
  }
  return true;
}

/** What a work-queue stream still stores (its messages not yet acknowledged), parsed as JSON. */
export async function storedMessages(jsm: JetStreamManager, stream: string): Promise<unknown[]> {
  const { state } = await jsm.streams.info(stream);
  const stored: unknown[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg) stored.push(msg.json());
  }
  return stored;
}
