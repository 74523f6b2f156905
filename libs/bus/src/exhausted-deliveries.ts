import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Streams } from '@orchestra/contracts';
import { orchestraMetrics } from '@orchestra/observability';
import { z } from 'zod';
import { decode } from './codec.js';
import { deadLetterSourceOf, payloadText, publishDeadLetter } from './dead-letters.js';
import { type BusLogger, errorFields } from './logger.js';

/** The server's advisory when a message used up its consumer's max_deliver. */
const MaxDeliveriesAdvisory = z.object({
  stream: z.string(),
  consumer: z.string(),
  stream_seq: z.number().int(),
  deliveries: z.number().int(),
});

export const MAX_DELIVERIES_ADVISORIES = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>';

/**
 * A message whose worker crashed or hung on every delivery is never given up by any handler: it
 * stays in its work queue, no longer delivered and seen by nobody. The server announces it; this
 * moves it to the dead letters with the reason and takes it out of the queue. Every replica may
 * run it: the dead letter's message id and the delete make a repeat harmless.
 */
export function watchExhaustedDeliveries(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  logger: BusLogger,
  now: () => number = Date.now,
): Subscription {
  return nc.subscribe(MAX_DELIVERIES_ADVISORIES, {
    callback: (error, msg) => {
      if (error) return;
      const advisory = MaxDeliveriesAdvisory.safeParse(safeDecode(msg.data));
      if (!advisory.success) return;
      deadLetterExhausted(js, jsm, advisory.data, now()).catch((failure) =>
        logger.warn(
          { ...advisory.data, ...errorFields(failure) },
          'could not dead-letter an exhausted message',
        ),
      );
    },
  });
}

async function deadLetterExhausted(
  js: JetStreamClient,
  jsm: JetStreamManager,
  advisory: z.infer<typeof MaxDeliveriesAdvisory>,
  at: number,
): Promise<void> {
  const source = deadLetterSourceOf(advisory.stream);
  if (!source) return;
  const stored = await jsm.streams.getMessage(advisory.stream, { seq: advisory.stream_seq });
  if (!stored) return;
  const ack = await publishDeadLetter(js, {
    source,
    stream: advisory.stream,
    consumer: advisory.consumer,
    subject: stored.subject,
    stream_seq: advisory.stream_seq,
    delivery_count: advisory.deliveries,
    reason: `no answer after ${advisory.deliveries} deliveries to ${advisory.consumer}: its worker crashed or hung each time`,
    issues: [],
    ...payloadText(stored.data),
    at,
  });
  // Every replica hears the advisory: only the one that stored the record counts it.
  if (!ack.duplicate) orchestraMetrics().deadLetters.inc({ stream: advisory.stream });
  // Work queues give the message up; the event log never loses an event (its consumer is stuck
  // on it, and the dead letter says so).
  if (advisory.stream === Streams.events) return;
  await jsm.streams.deleteMessage(advisory.stream, advisory.stream_seq, false).catch(() => false);
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decode(data);
  } catch {
    return undefined;
  }
}
