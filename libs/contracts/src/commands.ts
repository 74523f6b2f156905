import { z } from 'zod';

// Compiled (z.compile): valid messages take generated code, several times faster than the runtime
// parser; anything else falls back to it, so error messages are the runtime's.
import { ExecutionId, ID_PATTERN, Identifier } from './ids.js';
import { LIMITS } from './limits.js';

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

const TASK_PATH = new RegExp(`^${ID_PATTERN.source.slice(1, -1)}\\.${ID_PATTERN.source.slice(1, -1)}$`);
/** A task named as `phase_id.task_id`, as a reference names it. */
export const TaskPath = z
  .string()
  .max(2 * LIMITS.idLength + 1)
  .regex(TASK_PATH, 'must be "<phase_id>.<task_id>"');

/**
 * RerunExecution (`orchestra.cmd.rerun`): a new execution linked to a finished one. Tasks that
 * succeeded there and are not named in `tasks` are reused (their outputs recorded, never
 * dispatched); the others, and every task that depends on one of them, run again. `plan`, when
 * given, is a corrected plan with the same task ids: a task whose definition changed runs again.
 * Message id = execution_id, as for ExecutePlan.
 */
export const RerunExecution = z.compile(
  z.strictObject({
    type: z.literal('RerunExecution').default('RerunExecution'),
    source_execution_id: ExecutionId,
    execution_id: ExecutionId.optional(),
    tasks: z.array(TaskPath).max(LIMITS.tasks).optional(),
    plan: z.unknown().optional(),
  }),
);
export type RerunExecution = z.infer<typeof RerunExecution>;

/**
 * RepairExecution (`orchestra.cmd.repair`): re-publish what a running execution's log says must
 * be on the bus (dispatches of running attempts, their deadline timers, pending retry timers),
 * for the tasks named (all in flight when none), under fresh message ids. `orchestra doctor
 * --repair` sends it for an execution whose dispatch or timer was lost; it is recorded as an
 * ExecutionRepaired event.
 */
export const RepairExecution = z.compile(
  z.strictObject({
    type: z.literal('RepairExecution').default('RepairExecution'),
    execution_id: ExecutionId,
    reason: z.string().max(1024).optional(),
    tasks: z.array(Identifier).max(LIMITS.tasks).optional(),
  }),
);
export type RepairExecution = z.infer<typeof RepairExecution>;

export const Command = z.discriminatedUnion('type', [
  ExecutePlan.extend({ type: z.literal('ExecutePlan') }),
  CancelExecution.extend({ type: z.literal('CancelExecution') }),
  RerunExecution.extend({ type: z.literal('RerunExecution') }),
  RepairExecution.extend({ type: z.literal('RepairExecution') }),
]);
export type Command = z.infer<typeof Command>;

/** The body of the `orchestra.api.status` / `results` requests. */
export const ExecutionRef = z.strictObject({ execution_id: ExecutionId });
export type ExecutionRef = z.infer<typeof ExecutionRef>;
