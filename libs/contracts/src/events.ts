import { z } from 'zod';
import { ExecutionId, Identifier, PluginName } from './ids.js';
import { JsonObject, JsonValue, Plan } from './plan.js';
import { withDefaultsRequired } from './schema.js';
import { TaskUsage } from './tasks.js';

/**
 * Every event of one execution (`orchestra.events.<execution_id>`), in the order they are
 * appended. `at` is epoch milliseconds, taken from the decider's injected clock.
 * Task lifecycle (the seed's state machine): PENDING is implied by ExecutionStarted;
 * RUNNING = TaskDispatched (kind first|retry|fallback = RETRY/FALLBACK -> RUNNING);
 * SUCCESS = TaskSucceeded; FAILED = TaskFailed; TIMEOUT = TaskTimedOut; RETRY = TaskRetryScheduled;
 * SKIP = TaskSkipped; an attempt-exhausted task under `abort` ends with TaskGaveUp.
 */
const base = {
  execution_id: ExecutionId,
  at: z.number().int(),
};
const taskRef = {
  phase_id: Identifier,
  task_id: Identifier,
};

const IssueSchema = z.strictObject({ path: z.string(), message: z.string() });

export const ExecutionRejected = z.strictObject({
  type: z.literal('ExecutionRejected'),
  ...base,
  plan_id: z.string().optional(),
  reason: z.string(),
  issues: z.array(IssueSchema),
});

export const ExecutionStarted = z.strictObject({
  type: z.literal('ExecutionStarted'),
  ...base,
  plan: Plan,
  /** Set when this execution re-runs a finished one (RerunExecution): the source's id. */
  rerun_of: ExecutionId.optional(),
});

export const PhaseStarted = z.strictObject({
  type: z.literal('PhaseStarted'),
  ...base,
  phase_id: Identifier,
});

export const TaskDispatched = z.strictObject({
  type: z.literal('TaskDispatched'),
  ...base,
  ...taskRef,
  attempt_number: z.number().int().min(1),
  kind: z.enum(['first', 'retry', 'fallback']),
  plugin: PluginName,
  /** The resolved input_context, recorded so a re-published DispatchTask is identical. */
  input_context: JsonObject,
  deadline_at: z.number().int(),
});

export const TaskSucceeded = z.strictObject({
  type: z.literal('TaskSucceeded'),
  ...base,
  ...taskRef,
  attempt_number: z.number().int().min(1),
  plugin_used: PluginName,
  output: JsonValue,
  duration_ms: z.number().int().min(0),
  usage: TaskUsage.optional(),
});

export const TaskFailed = z.strictObject({
  type: z.literal('TaskFailed'),
  ...base,
  ...taskRef,
  attempt_number: z.number().int().min(1),
  plugin_used: PluginName,
  error: z.string(),
  /** The plugin's error code, when it gave one (rules may depend on it). */
  code: z.string().max(128).optional(),
  /** Only `false` is recorded: the failure policy skips the remaining retries. */
  retryable: z.literal(false).optional(),
  duration_ms: z.number().int().min(0),
  usage: TaskUsage.optional(),
});

export const TaskTimedOut = z.strictObject({
  type: z.literal('TaskTimedOut'),
  ...base,
  ...taskRef,
  attempt_number: z.number().int().min(1),
  plugin_used: PluginName,
  duration_ms: z.number().int().min(0),
});

export const TaskRetryScheduled = z.strictObject({
  type: z.literal('TaskRetryScheduled'),
  ...base,
  ...taskRef,
  next_attempt_number: z.number().int().min(2),
  delay_ms: z.number().int().min(0),
  due_at: z.number().int(),
});

export const TaskSkipped = z.strictObject({
  type: z.literal('TaskSkipped'),
  ...base,
  ...taskRef,
  reason: z.string(),
});

/**
 * In a re-run, a task that succeeded in the source and need not run again: its output, taken
 * from the source's record at `source_seq` (the stream sequence of its TaskSucceeded or
 * TaskReused). It is never dispatched; its status is SUCCESS.
 */
export const TaskReused = z.strictObject({
  type: z.literal('TaskReused'),
  ...base,
  ...taskRef,
  source_execution_id: ExecutionId,
  source_seq: z.number().int().min(1),
  plugin_used: PluginName,
  attempt_number: z.number().int().min(1),
  output: JsonValue,
  duration_ms: z.number().int().min(0),
});

/** All attempts failed under `abort`: the task ends `failed` (or `timeout`) and the run stops. */
export const TaskGaveUp = z.strictObject({
  type: z.literal('TaskGaveUp'),
  ...base,
  ...taskRef,
  status: z.enum(['failed', 'timeout']),
  reason: z.string(),
});

/** An outcome (or timer) that no longer applies: a late answer after a timeout, a duplicate. */
export const OutcomeIgnored = z.strictObject({
  type: z.literal('OutcomeIgnored'),
  ...base,
  ...taskRef,
  attempt_number: z.number().int().min(1),
  reason: z.string(),
});

export const PhaseFinished = z.strictObject({
  type: z.literal('PhaseFinished'),
  ...base,
  phase_id: Identifier,
  status: z.enum(['completed', 'partial', 'failed', 'skipped', 'cancelled']),
});

/**
 * RepairExecution applied (`orchestra doctor --repair`): the dispatches and timers the log implies
 * for `tasks` (every task in flight when empty) are published again, with message ids of this
 * `repair` (the count of repairs so far), so a lost message is replaced even within the dedupe
 * window. Workers may then see an attempt twice; its second outcome is ignored as usual.
 */
export const ExecutionRepaired = z.strictObject({
  type: z.literal('ExecutionRepaired'),
  ...base,
  reason: z.string(),
  tasks: z.array(Identifier),
  repair: z.number().int().min(1),
});

export const ExecutionCancelled = z.strictObject({
  type: z.literal('ExecutionCancelled'),
  ...base,
  reason: z.string(),
});

export const ExecutionFinished = z.strictObject({
  type: z.literal('ExecutionFinished'),
  ...base,
  status: z.enum(['completed', 'partial', 'failed', 'cancelled']),
});

const eventSchemas = [
  ExecutionRejected,
  ExecutionStarted,
  PhaseStarted,
  TaskDispatched,
  TaskSucceeded,
  TaskFailed,
  TaskTimedOut,
  TaskRetryScheduled,
  TaskSkipped,
  TaskReused,
  TaskGaveUp,
  OutcomeIgnored,
  PhaseFinished,
  ExecutionRepaired,
  ExecutionCancelled,
  ExecutionFinished,
] as const;

/**
 * The contract: what an event may be, its JSON Schema, and the errors a bad one gets. Exported
 * uncompiled so tests can hold the compiled `ExecutionEvent` to it.
 */
export const ExecutionEventContract = z.discriminatedUnion('type', eventSchemas);
const contract = ExecutionEventContract;

/**
 * The same union for an event as the orchestrator stores it: ExecutionStarted's plan is the one
 * validatePlan returned, every default filled in. On such input it accepts and returns exactly
 * what the contract does (same fields, same checks, the defaults are no-ops), and refuses the
 * rest, which then goes to the contract (a second parse, for events that are rare: invalid ones,
 * or a plan written without its defaults). It exists for speed: zod's compiled code for a field
 * with a default is several times slower than for the field alone, and a task has nine.
 */
const stored = z.compile(
  z.discriminatedUnion(
    'type',
    eventSchemas.map((schema) =>
      schema === ExecutionStarted ? ExecutionStarted.extend({ plan: withDefaultsRequired(Plan) }) : schema,
    ) as unknown as typeof eventSchemas,
  ),
  { strict: true },
);

/**
 * Every event of one execution. Validating events is most of what reading a log costs (replay,
 * every fold, every append), so the schema runs compiled code (z.compile) for the stored form
 * first; anything that does not pass it — a plan with defaults left out, or an invalid event —
 * is parsed by the contract itself, so defaults and error messages are exactly the contract's.
 */
export const ExecutionEvent = z.withParser(contract, (input) => {
  const parsed = stored.safeParse(input);
  return parsed.success ? parsed.data : z.INVALID;
});
export type ExecutionEvent = z.infer<typeof ExecutionEvent>;
export type ExecutionEventType = ExecutionEvent['type'];
export type EventOf<T extends ExecutionEventType> = Extract<ExecutionEvent, { type: T }>;

export type ExecutionRejected = EventOf<'ExecutionRejected'>;
export type ExecutionStarted = EventOf<'ExecutionStarted'>;
export type PhaseStarted = EventOf<'PhaseStarted'>;
export type TaskDispatched = EventOf<'TaskDispatched'>;
export type TaskSucceeded = EventOf<'TaskSucceeded'>;
export type TaskFailed = EventOf<'TaskFailed'>;
export type TaskTimedOut = EventOf<'TaskTimedOut'>;
export type TaskRetryScheduled = EventOf<'TaskRetryScheduled'>;
export type TaskSkipped = EventOf<'TaskSkipped'>;
export type TaskReused = EventOf<'TaskReused'>;
export type TaskGaveUp = EventOf<'TaskGaveUp'>;
export type OutcomeIgnored = EventOf<'OutcomeIgnored'>;
export type PhaseFinished = EventOf<'PhaseFinished'>;
export type ExecutionCancelled = EventOf<'ExecutionCancelled'>;
export type ExecutionRepaired = EventOf<'ExecutionRepaired'>;
export type ExecutionFinished = EventOf<'ExecutionFinished'>;
