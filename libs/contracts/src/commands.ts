import { z } from 'zod';

// Compiled (z.compile): valid messages take generated code, several times faster than the runtime
// parser; anything else falls back to it, so error messages are the runtime's.
import { ExecutionId } from './ids.js';

/**
 * Commands: what a producer asks Orchestra to do (`orchestra.cmd.*`). The plan is carried as
 * an unvalidated JSON value so that a wrong plan still yields a command we can answer with a
 * rejection naming every problem, rather than an unreadable message.
 */
export const ExecutePlan = z.compile(
  z.strictObject({
    type: z.literal('ExecutePlan').default('ExecutePlan'),
    plan: z.unknown().refine((value) => value !== undefined, 'plan is required'),
    execution_id: ExecutionId.optional(),
  }),
);
export type ExecutePlan = z.infer<typeof ExecutePlan>;

export const CancelExecution = z.compile(
  z.strictObject({
    type: z.literal('CancelExecution').default('CancelExecution'),
    execution_id: ExecutionId,
    reason: z.string().max(1024).optional(),
  }),
);
export type CancelExecution = z.infer<typeof CancelExecution>;

export const Command = z.discriminatedUnion('type', [
  ExecutePlan.extend({ type: z.literal('ExecutePlan') }),
  CancelExecution.extend({ type: z.literal('CancelExecution') }),
]);
export type Command = z.infer<typeof Command>;

/** The body of the `orchestra.api.status` / `results` requests. */
export const ExecutionRef = z.strictObject({ execution_id: ExecutionId });
export type ExecutionRef = z.infer<typeof ExecutionRef>;
