import { z } from 'zod';

// Compiled (z.compile): valid messages take generated code, several times faster than the runtime
// parser; anything else falls back to it, so error messages are the runtime's.
import { ExecutionEvent } from './events.js';

/**
 * One stored message on `orchestra.events.<execution_id>`: the events of one decision, in the
 * order they happened (a commit). A decision's events are stored together so that appending them
 * costs one round trip, and a reader never sees half a decision unless the decision was larger
 * than one message (then it is split into several records, appended in order).
 */
export const EventRecord = z.compile(z.array(ExecutionEvent).min(1, 'a record holds at least one event'));
export type EventRecord = z.infer<typeof EventRecord>;
