import { z } from 'zod';
import { ExecutionEvent } from './events.js';

/**
 * One stored message on `orchestra.events.<execution_id>`: the events of one decision, in the
 * order they happened (a commit). A decision's events are stored together so that appending them
 * costs one round trip, and a reader never sees half a decision unless the decision was larger
 * than one message (then it is split into several records, appended in order).
 */
export const EventRecord = z.array(ExecutionEvent).min(1, 'a record holds at least one event');
export type EventRecord = z.infer<typeof EventRecord>;
