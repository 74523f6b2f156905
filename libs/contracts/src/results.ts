import { z } from 'zod';
import { ExecutionId } from './ids.js';
import { JsonValue } from './plan.js';
import { EXECUTION_STATUSES } from './statuses.js';
import { TaskUsage } from './tasks.js';

/**
 * `execution_results` (KV bucket `orchestra_results`, key = execution_id): the seed's output
 * schema, field for field, plus execution_id and timestamps. While an execution runs its tasks
 * may also be `pending` or `running`; once it has finished every task has one of the seed's four
 * statuses and the summary adds up to total_tasks.
 */
export const FinalTaskStatus = z.enum(['success', 'failed', 'skipped', 'timeout']);
export type FinalTaskStatus = z.infer<typeof FinalTaskStatus>;
export const TaskResultStatus = z.enum(['pending', 'running', 'success', 'failed', 'skipped', 'timeout']);
export type TaskResultStatus = z.infer<typeof TaskResultStatus>;

/** Tokens summed over attempts (a task's, or the whole execution's). */
export const TokenTotals = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
});
export type TokenTotals = z.infer<typeof TokenTotals>;

/**
 * One attempt of a task (beside the seed's fields): its kind, plugin, how it ended and, for agent
 * plugins, the model and tokens. The error texts of every attempt are in the event log.
 */
export const AttemptResult = z.object({
  attempt_number: z.number().int().min(1),
  kind: z.enum(['first', 'retry', 'fallback']),
  plugin: z.string(),
  /** `abandoned`: still running when the execution was cancelled or aborted. */
  status: z.enum(['running', 'success', 'failed', 'timeout', 'abandoned']),
  dispatched_at: z.string(),
  duration_ms: z.number().int().nullable(),
  error_code: z.string().optional(),
  retryable: z.literal(false).optional(),
  usage: TaskUsage.optional(),
});
export type AttemptResult = z.infer<typeof AttemptResult>;

export const TaskResult = z.object({
  task_id: z.string(),
  status: TaskResultStatus,
  plugin_used: z.string().nullable(),
  attempt_number: z.number().int().min(0),
  duration_ms: z.number().int().nullable(),
  output: JsonValue.nullable(),
  error: z.string().nullable(),
  attempts: z.array(AttemptResult),
  /** In a re-run: the source execution and record this task's output was taken from. */
  reused_from: z.object({ execution_id: ExecutionId, seq: z.number().int() }).optional(),
  /** Present when an attempt called a model: the tokens of all its attempts. */
  usage: TokenTotals.optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

export const PhaseResultStatus = z.enum([
  'pending',
  'running',
  'completed',
  'partial',
  'failed',
  'skipped',
  'cancelled',
]);
export type PhaseResultStatus = z.infer<typeof PhaseResultStatus>;

export const PhaseResult = z.object({
  phase_id: z.string(),
  status: PhaseResultStatus,
  tasks: z.array(TaskResult),
});
export type PhaseResult = z.infer<typeof PhaseResult>;

export const ExecutionStatus = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

export const Summary = z.object({
  total_tasks: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  timeout: z.number().int(),
  /** Present when an attempt called a model: the tokens of the whole execution. */
  usage: TokenTotals.optional(),
});
export type Summary = z.infer<typeof Summary>;

export const ExecutionResults = z.object({
  execution_id: ExecutionId,
  plan_id: z.string().nullable(),
  status: ExecutionStatus,
  duration_ms: z.number().int().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Set when this execution re-ran another one (RerunExecution). */
  rerun_of: ExecutionId.optional(),
  phases: z.array(PhaseResult),
  summary: Summary,
  /** Why a plan was rejected, or why the run stopped early (abort or cancel). */
  errors: z.array(z.string()),
  /**
   * Present only when the full results would not fit in one bucket value (the server's
   * max_payload): what was left out, largest first. The event log still has all of it.
   */
  omitted: z
    .object({ outputs: z.array(z.string()), errors: z.array(z.string()), tasks: z.boolean() })
    .optional(),
});
export type ExecutionResults = z.infer<typeof ExecutionResults>;

/** The seed's step-1 `execution_context`, as `orchestra status` and `orchestra.api.status` show it. */
export const ExecutionContext = z.object({
  execution_id: ExecutionId,
  plan_id: z.string().nullable(),
  start_time: z.string().nullable(),
  state: ExecutionStatus,
  current_phase: z.string().nullable(),
  running_phases: z.array(z.string()),
  completed_phases: z.array(z.string()),
  /** Outputs of the tasks that succeeded, under each task's output_key (the seed's shape). */
  task_outputs: z.record(z.string(), JsonValue),
  /** The same outputs under task ids (output keys need not be unique). */
  outputs_by_task: z.record(z.string(), JsonValue),
  errors: z.array(
    z.object({
      phase_id: z.string().nullable(),
      task_id: z.string().nullable(),
      attempt_number: z.number().int().nullable(),
      error: z.string(),
    }),
  ),
});
export type ExecutionContext = z.infer<typeof ExecutionContext>;
