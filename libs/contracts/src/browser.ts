/**
 * The part of @orchestra/contracts a web page may load (the console's page folds events with
 * libs/execution, which needs plan validation, references and limits): no message schema
 * compiled with z.compile, whose generated code (new Function) cannot run under the console's
 * Content-Security-Policy. The page never validates messages: the console server did, with the
 * full contracts, before it streamed them. index.ts adds the message schemas to these.
 */
export {
  ConcurrencyError,
  formatPath,
  IllegalStateError,
  type Issue,
  NotFoundError,
  OrchestraError,
  ValidationError,
} from './errors.js';
export { ExecutionId, Identifier, newExecutionId, PluginName } from './ids.js';
export { depthExceeding, isJsonValue } from './json.js';
export { LIMITS, type Limits } from './limits.js';
export {
  Backoff,
  DEFAULT_BACKOFF,
  DEFAULT_TIMEOUT_MS,
  EntryPoint,
  ExecutionMode,
  JsonObject,
  JsonValue,
  PartialFailurePolicy,
  Phase,
  Plan,
  type PlanInput,
  Task,
  type TaskInput,
} from './plan.js';
export {
  forEachString,
  parseReferenceBody,
  REFERENCE_OCCURRENCE,
  type Reference,
  type ReferenceParse,
  referencesInString,
  wholeReference,
} from './references.js';
export { EXECUTION_STATUSES } from './statuses.js';
export { type PlanValidation, parseOrThrow, validatePlan, zodIssues } from './validate.js';
