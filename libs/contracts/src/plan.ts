import { z } from 'zod';
import { Identifier, PluginName } from './ids.js';
import { LIMITS } from './limits.js';

/** Any JSON value: what input_context, outputs and resolved inputs are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.json();
export const JsonObject = z.record(z.string(), JsonValue);
export type JsonObject = z.infer<typeof JsonObject>;

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
