import { z } from 'zod';

// Compiled (z.compile): valid messages take generated code, several times faster than the runtime
// parser; anything else falls back to it, so error messages are the runtime's.
import { ExecutionId, Identifier } from './ids.js';

/**
 * A durable timer (`orchestra.timers.<execution_id>`): the orchestrator stores one when it
 * dispatches an attempt (its deadline) or schedules a retry (its backoff), and acts on it when
 * it is due. Timers are hints: the decider checks them against the execution's events, so a
 * timer for an attempt that already ended is ignored.
 */
export const Timer = z.compile(
  z.strictObject({
    type: z.literal('Timer'),
    kind: z.enum(['deadline', 'retry']),
    execution_id: ExecutionId,
    task_id: Identifier,
    attempt_number: z.number().int().min(1),
    due_at: z.number().int(),
  }),
);
export type Timer = z.infer<typeof Timer>;
