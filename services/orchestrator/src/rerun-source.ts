import type { JetStreamManager } from '@nats-io/jetstream';
import { readEvents } from '@orchestra/bus';
import { fold, type RerunSource } from '@orchestra/execution';

/**
 * Reads a re-run's source from its log (the decider does no I/O): its fold, and the stream
 * sequence of the record that gave each task its output, which the re-run records as provenance.
 */
export async function loadRerunSource(jsm: JetStreamManager, executionId: string): Promise<RerunSource> {
  const { events } = await readEvents(jsm, executionId);
  const outputSeq: Record<string, number> = {};
  for (const { seq, event } of events) {
    if (event.type === 'TaskSucceeded' || event.type === 'TaskReused') outputSeq[event.task_id] = seq;
  }
  return { execution_id: executionId, state: fold(events.map((stored) => stored.event)), outputSeq };
}
