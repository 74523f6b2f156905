import { z } from 'zod';
import { formatPath } from './errors.js';
import { Identifier, PluginName } from './ids.js';
import { isJsonValue, jsonValueProblem, TOO_DEEP } from './json.js';
import { LIMITS } from './limits.js';

/** Any JSON value: what input_context, outputs and resolved inputs are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * JSON values are checked by one predicate walking the value (`isJsonValue`), not by a recursive
 * zod union: they sit in every event (outputs, inputs, the plan), and validating them node by
 * node was most of what reading an event log cost. The rules are the same (strings, finite
 * numbers, booleans, null, arrays and plain objects of them), plus a depth bound no message can
 * exceed (`LIMITS.messageDepth`), which also ends the walk on a cycle. A value that fails gets an
 * issue at its field naming the exact place inside it and why. The value is returned as it is,
 * not copied (zod's record dropped `__proto__` keys while copying; now such a key stays plain
 * data all the way, as libs/execution already treats it).
 */
export const JsonValue = z
  .unknown()
  .refine((value) => isJsonValue(value, LIMITS.messageDepth), {
    error: (issue) => jsonIssue(issue, 'value'),
    // Later checks (an output's byte count) may assume JSON: none runs on a value that is not.
    abort: true,
  })
  .meta({
    description: `any JSON value, nested at most ${LIMITS.messageDepth} levels`,
  }) as z.ZodType<JsonValue>;

/** A JSON object (input_context). Same walk as JsonValue; the root must be a plain object. */
export const JsonObject = z
  .unknown()
  .refine((value) => isJsonObject(value) && isJsonValue(value, LIMITS.messageDepth), {
    error: (issue) => jsonIssue(issue, 'object'),
    abort: true,
  })
  .meta({
    type: 'object',
    description: `a JSON object, nested at most ${LIMITS.messageDepth} levels`,
  }) as z.ZodType<JsonObject>;

function isJsonObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonIssue(issue: { input?: unknown; path?: PropertyKey[] }, expected: 'value' | 'object'): string {
  const { input } = issue;
  if (expected === 'object' && !isJsonObject(input)) {
    // zod's own words for a value that is not a record, so the message reads as before.
    return `Invalid input: expected record, received ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input}`;
  }
  const problem = jsonValueProblem(input, LIMITS.messageDepth);
  const at = formatPath([...(issue.path ?? []), ...(problem?.path ?? [])]);
  if (!problem) return `${at} is not a JSON value`;
  if (problem.reason === TOO_DEEP) return `nests deeper than ${LIMITS.messageDepth} levels (at ${at})`;
  return `${at} ${problem.reason}`;
}

export const PartialFailurePolicy = z.enum(['continue', 'abort']);
export type PartialFailurePolicy = z.infer<typeof PartialFailurePolicy>;

export const ExecutionMode = z.enum(['parallel', 'sequential']);
export type ExecutionMode = z.infer<typeof ExecutionMode>;

export const EntryPoint = z.strictObject({
  type: z.string().min(1).max(64),
  value: z.string().min(1).max(1024),
});
export type EntryPoint = z.infer<typeof EntryPoint>;

export const Backoff = z.strictObject({
  initial_ms: z.number().int().min(0).max(LIMITS.backoffMs).default(200),
  multiplier: z.number().min(1).max(10).default(2),
  max_ms: z.number().int().min(0).max(LIMITS.backoffMs).default(10_000),
});
export type Backoff = z.infer<typeof Backoff>;

export const DEFAULT_BACKOFF: Backoff = { initial_ms: 200, multiplier: 2, max_ms: 10_000 };
export const DEFAULT_TIMEOUT_MS = 60_000;

export const Task = z.strictObject({
  task_id: Identifier,
  description: z.string().max(4096).default(''),
  assigned_plugin: PluginName,
  entry_point: EntryPoint,
  input_context: JsonObject.default({}),
  /** The key under which the plugin's output is expected; defaults to the task id. */
  output_key: z.string().min(1).max(LIMITS.idLength).optional(),
  depends_on: z.array(Identifier).max(LIMITS.tasks).default([]),
  retries: z.number().int().min(0).max(LIMITS.retries).default(0),
  backoff: Backoff.default(DEFAULT_BACKOFF),
  fallback_plugin: PluginName.optional(),
  timeout_ms: z.number().int().min(1).max(LIMITS.timeoutMs).default(DEFAULT_TIMEOUT_MS),
});
export type Task = z.infer<typeof Task>;
export type TaskInput = z.input<typeof Task>;

export const Phase = z.strictObject({
  phase_id: Identifier,
  description: z.string().max(4096).optional(),
  depends_on_phases: z.array(Identifier).max(LIMITS.phases).default([]),
  execution_mode: ExecutionMode.default('parallel'),
  /** Overrides the plan's policy for the tasks of this phase. */
  on_partial_failure: PartialFailurePolicy.optional(),
  tasks: z.array(Task).min(1, 'a phase needs at least one task').max(LIMITS.tasks),
});
export type Phase = z.infer<typeof Phase>;

export const Plan = z.strictObject({
  plan_id: Identifier,
  description: z.string().max(4096).optional(),
  on_partial_failure: PartialFailurePolicy.default('continue'),
  phases: z.array(Phase).min(1, 'a plan needs at least one phase').max(LIMITS.phases),
});
/** A plan after parsing: every default filled in. */
export type Plan = z.infer<typeof Plan>;
/** A plan as written by a user: defaults may be omitted. */
export type PlanInput = z.input<typeof Plan>;
