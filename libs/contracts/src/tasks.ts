import { z } from 'zod';

// Compiled (z.compile): valid messages take generated code, several times faster than the runtime
// parser; anything else falls back to it, so error messages are the runtime's.
import { ExecutionId, Identifier, PluginName } from './ids.js';
import { depthExceeding } from './json.js';
import { LIMITS } from './limits.js';
import { EntryPoint, JsonObject, JsonValue } from './plan.js';

/**
 * DispatchTask (`orchestra.tasks.<plugin>`): what the seed's `Task()` prompt carries, plus the
 * ids a worker needs to answer. Message id: `MessageIds.dispatch(execution, task, attempt)`.
 */
export const DispatchTask = z.compile(
  z.strictObject({
    type: z.literal('DispatchTask'),
    execution_id: ExecutionId,
    plan_id: Identifier,
    phase_id: Identifier,
    task_id: Identifier,
    attempt_number: z.number().int().min(1),
    plugin: PluginName,
    description: z.string(),
    entry_point: EntryPoint,
    /** input_context with every `${...}` reference already resolved. */
    input_context: JsonObject,
    output_key: z.string(),
    /** Epoch milliseconds: the dispatch time and the moment the attempt times out. */
    dispatched_at: z.number().int(),
    deadline_at: z.number().int(),
  }),
);
export type DispatchTask = z.infer<typeof DispatchTask>;

export const TaskError = z.strictObject({
  message: z.string().max(8192),
  code: z.string().max(128).optional(),
  /**
   * `false` when trying again on the same plugin cannot help (a refused request, bad credentials):
   * the remaining retries are skipped and the fallback plugin, if any, gets the next attempt.
   */
  retryable: z.boolean().optional(),
});
export type TaskError = z.infer<typeof TaskError>;

/** What an attempt cost on a model: recorded per attempt, summed in `execution_results`. */
export const TaskUsage = z.strictObject({
  model: z.string().min(1).max(256),
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  finish_reason: z.string().max(64).optional(),
});
export type TaskUsage = z.infer<typeof TaskUsage>;

const outcomeFields = {
  execution_id: ExecutionId,
  phase_id: Identifier,
  task_id: Identifier,
  attempt_number: z.number().int().min(1),
  plugin_used: PluginName,
  duration_ms: z.number().int().min(0),
  finished_at: z.number().int(),
  /** Present when the attempt called a model (agent plugins), whether it succeeded or not. */
  usage: TaskUsage.optional(),
};

/**
 * TaskOutcome (`orchestra.outcomes.<execution_id>`): a worker's answer to one DispatchTask.
 * Message id: `MessageIds.outcome(execution, task, attempt)`, so a repeated answer is stored once.
 */
/** A worker in any language may answer: its output is held to the limit the dispatcher keeps. */
const BoundedOutput = JsonValue.superRefine((output, ctx) => {
  // The same bounds the TypeScript dispatcher holds its plugins to (README, Plans).
  const deep = depthExceeding(output, LIMITS.jsonDepth, 'output');
  if (deep) {
    ctx.addIssue({
      code: 'custom',
      message: `output nests deeper than ${LIMITS.jsonDepth} levels (at ${deep})`,
    });
    return;
  }
  const bytes = Buffer.byteLength(JSON.stringify(output));
  if (bytes > LIMITS.outputBytes) {
    ctx.addIssue({
      code: 'custom',
      message: `output is ${bytes} bytes as JSON; the limit is ${LIMITS.outputBytes}`,
    });
  }
});

export const TaskSucceededOutcome = z.strictObject({
  type: z.literal('TaskOutcome'),
  status: z.literal('succeeded'),
  output: BoundedOutput,
  ...outcomeFields,
});
export const TaskFailedOutcome = z.strictObject({
  type: z.literal('TaskOutcome'),
  status: z.literal('failed'),
  error: TaskError,
  ...outcomeFields,
});
export const TaskOutcome = z.compile(
  z.discriminatedUnion('status', [TaskSucceededOutcome, TaskFailedOutcome]),
);
export type TaskOutcome = z.infer<typeof TaskOutcome>;
export type TaskSucceededOutcome = z.infer<typeof TaskSucceededOutcome>;
export type TaskFailedOutcome = z.infer<typeof TaskFailedOutcome>;

export const OUTPUT_LIMIT_BYTES = LIMITS.outputBytes;

/**
 * The cancel notice (`orchestra.control.cancel.<execution_id>`, core NATS, not stored): the
 * execution was cancelled or aborted; workers abort its running attempts and send no outcome.
 * The subject alone says which execution; the payload repeats it.
 */
export const CancelNotice = z.strictObject({ execution_id: ExecutionId });
export type CancelNotice = z.infer<typeof CancelNotice>;

/** The fields that name an attempt: enough of an outcome to know which attempt it answers. */
const AttemptNamed = z.object({
  execution_id: ExecutionId,
  phase_id: Identifier,
  task_id: Identifier,
  attempt_number: z.number().int().min(1),
  plugin_used: PluginName,
});

const MALFORMED_MESSAGE_MAX = 8192;

/**
 * An outcome the schema refused but that still names its attempt, as that attempt's failure
 * (code MALFORMED_OUTCOME, with the issues). Without it the bad answer would only be
 * dead-lettered, its msg id spent, and the task would wait for its deadline; this way the
 * retries apply at once. Undefined when the payload does not name an attempt.
 */
export function malformedOutcomeAsFailure(
  json: unknown,
  issues: readonly { path: string; message: string }[],
  now: number,
): TaskFailedOutcome | undefined {
  const named = AttemptNamed.safeParse(json);
  if (!named.success) return undefined;
  const listed = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  const duration = (json as { duration_ms?: unknown }).duration_ms;
  return {
    type: 'TaskOutcome',
    status: 'failed',
    error: {
      message: `malformed outcome (${listed})`.slice(0, MALFORMED_MESSAGE_MAX),
      code: 'MALFORMED_OUTCOME',
    },
    execution_id: named.data.execution_id,
    phase_id: named.data.phase_id,
    task_id: named.data.task_id,
    attempt_number: named.data.attempt_number,
    plugin_used: named.data.plugin_used,
    duration_ms: Number.isSafeInteger(duration) && (duration as number) >= 0 ? (duration as number) : 0,
    finished_at: now,
  };
}
