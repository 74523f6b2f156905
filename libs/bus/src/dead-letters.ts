import type { JetStreamClient, JsMsg, PubAck } from '@nats-io/jetstream';
import { type DeadLetterSource, type Issue, Streams, Subjects } from '@orchestra/contracts';
import { z } from 'zod';
import { publishJson } from './publish.js';

/** Payloads are kept as text up to this many bytes of UTF-8. */
export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024;

const SOURCES = [
  'commands',
  'tasks',
  'outcomes',
  'timers',
  'events',
] as const satisfies readonly DeadLetterSource[];

/** What `orchestra.dlq.<source>` carries: a message that could not be processed, and why. */
export const DeadLetterRecord = z.object({
  source: z.enum(SOURCES),
  stream: z.string(),
  consumer: z.string().optional(),
  subject: z.string(),
  stream_seq: z.number().int(),
  delivery_count: z.number().int(),
  reason: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  payload: z.string(),
  payload_truncated: z.boolean(),
  /** Epoch milliseconds. */
  at: z.number().int(),
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecord>;

const STREAM_SOURCES: Record<string, DeadLetterSource> = {
  [Streams.commands]: 'commands',
  [Streams.tasks]: 'tasks',
  [Streams.outcomes]: 'outcomes',
  [Streams.timers]: 'timers',
  [Streams.events]: 'events',
};

/** The dead-letter source of one of Orchestra's streams; undefined for any other stream. */
export function deadLetterSourceOf(stream: string): DeadLetterSource | undefined {
  return STREAM_SOURCES[stream];
}

export function deadLetterRecord(
  source: DeadLetterSource,
  msg: JsMsg,
  reason: string,
  issues: Issue[],
  at: number,
): DeadLetterRecord {
  return {
    source,
    stream: msg.info.stream,
    consumer: msg.info.consumer,
    subject: msg.subject,
    stream_seq: msg.seq,
    delivery_count: msg.info.deliveryCount,
    reason,
    issues,
    ...payloadText(msg.data),
    at,
  };
}

/** A payload as text, cut at DEAD_LETTER_PAYLOAD_LIMIT bytes. */
export function payloadText(data: Uint8Array): { payload: string; payload_truncated: boolean } {
  const truncated = data.length > DEAD_LETTER_PAYLOAD_LIMIT;
  const bytes = truncated ? data.subarray(0, DEAD_LETTER_PAYLOAD_LIMIT) : data;
  // A cut in the middle of a character becomes U+FFFD; the record stays valid JSON.
  return { payload: new TextDecoder().decode(bytes), payload_truncated: truncated };
}

/** Stored once per original message: the msg id makes a re-publish after a crash harmless. */
export function publishDeadLetter(js: JetStreamClient, record: DeadLetterRecord): Promise<PubAck> {
  return publishJson(js, Subjects.deadLetters(record.source), record, {
    msgID: `dlq:${record.stream}:${record.stream_seq}`,
  });
}
