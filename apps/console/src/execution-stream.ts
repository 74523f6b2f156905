import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { type BusLogger, decodeStoredRecord, errorFields } from '@orchestra/bus';
import { Streams, Subjects } from '@orchestra/contracts';
import type { StreamCaughtUp, StreamInvalid, StreamRecord } from './model/api-types.js';
import type { SseStream } from './sse.js';

/**
 * Streams one execution's stored messages to a browser, history first and then live, from an
 * ordered consumer on `orchestra.events.<execution_id>` that starts right after `after` (the
 * last stream sequence the browser has). Each SSE event carries its stream sequence as its id,
 * so a reconnect resumes where the browser stopped: no gap, no message twice. `caught-up` tells
 * the browser the history is complete (it draws once, then live).
 */
export async function streamExecution(
  clients: { js: JetStreamClient; jsm: JetStreamManager },
  executionId: string,
  after: number,
  sse: SseStream,
  logger: BusLogger,
): Promise<void> {
  const subject = Subjects.events(executionId);
  const last = await clients.jsm.streams.getMessage(Streams.events, { last_by_subj: subject });
  const lastSeq = last?.seq ?? 0;
  let caughtUp = lastSeq <= after;
  if (caughtUp) await sse.send('caught-up', { seq: after } satisfies StreamCaughtUp);
  const consumer = await clients.js.consumers.get(Streams.events, {
    filter_subjects: subject,
    ...(after > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
      : { deliver_policy: DeliverPolicy.All }),
  });
  if (!sse.isOpen) return;
  const messages = await consumer.consume({ max_messages: 128 });
  sse.onClose(() => messages.stop());
  try {
    for await (const msg of messages) {
      const decoded = await decodeStoredRecord(clients.js, msg.subject, msg.data);
      if (decoded.ok) {
        await sse.send('record', { seq: msg.seq, events: decoded.events } satisfies StreamRecord, msg.seq);
      } else {
        const invalid: StreamInvalid = { seq: msg.seq, reason: decoded.reason, issues: decoded.issues };
        await sse.send('invalid', invalid, msg.seq);
      }
      if (!caughtUp && msg.seq >= lastSeq) {
        caughtUp = true;
        await sse.send('caught-up', { seq: msg.seq } satisfies StreamCaughtUp);
      }
      if (!sse.isOpen) break;
    }
  } catch (error) {
    logger.warn({ execution_id: executionId, ...errorFields(error) }, 'console: event stream failed');
  } finally {
    messages.stop();
    // Not left to the server's inactivity cleanup: a busy console opens one per page view.
    void Promise.resolve()
      .then(() => consumer.delete())
      .catch(() => undefined);
    // The browser reconnects with Last-Event-ID when the stream ends for any reason but its own.
    sse.close();
  }
}
