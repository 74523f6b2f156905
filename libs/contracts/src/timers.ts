import { z } from 'zod';
import { ExecutionId, Identifier } from './ids.js';

/**
 * A durable timer (`orchestra.timers.<execution_id>`): the orchestrator stores one when it
 * dispatches an attempt (its deadline) or schedules a retry (its backoff), and acts on it when
 * it is due. Timers are hints: the decider checks them against the execution's events, so a
 * timer for an attempt that already ended is ignored.
 */
export const Timer = z.strictObject({
  type: z.literal('Timer'),
  kind: z.enum(['deadline', 'retry']),
  execution_id: ExecutionId,
  task_id: Identifier,
  attempt_number: z.number().int().min(1),
  due_at: z.number().int(),
});
export type Timer = z.infer<typeof Timer>;
