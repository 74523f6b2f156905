// The public API of libs/contracts: the wire contract (every message schema with its type), plan
// parsing and validation, subjects, stream and bucket names, limits and errors. The building
// blocks of validation (graph search, JSON checks, id patterns) stay internal. browser.ts names
// the part a web page may load (plan validation, references, limits, errors); this adds the
// message schemas. See docs/architecture.md, "Packages".

export * from './browser.js';
export {
  CancelExecution,
  Command,
  ExecutePlan,
  ExecutionRef,
  RepairExecution,
  RerunExecution,
  TaskPath,
} from './commands.js';
export {
  type Env,
  type EnvSpec,
  type EnvValues,
  type EnvVariable,
  environmentError,
  environmentProblems,
  envVariable,
  readEnvironment,
} from './environment.js';
export {
  type EventOf,
  ExecutionCancelled,
  ExecutionEvent,
  ExecutionEventContract,
  type ExecutionEventType,
  ExecutionFinished,
  ExecutionRejected,
  ExecutionRepaired,
  ExecutionStarted,
  OutcomeIgnored,
  PhaseFinished,
  PhaseStarted,
  TaskDispatched,
  TaskFailed,
  TaskGaveUp,
  TaskRetryScheduled,
  TaskReused,
  TaskSkipped,
  TaskSucceeded,
  TaskTimedOut,
} from './events.js';
export { type JsonSchemaFile, jsonSchemaFiles, jsonSchemaIndex } from './json-schemas.js';
export { type DocumentParse, type PlanFormat, parseDocumentText, parsePlan } from './parse.js';
export { EventRecord } from './record.js';
export {
  AttemptResult,
  ExecutionContext,
  ExecutionResults,
  ExecutionStatus,
  FinalTaskStatus,
  PhaseResult,
  PhaseResultStatus,
  Summary,
  TaskResult,
  TaskResultStatus,
  TokenTotals,
} from './results.js';
export {
  API_ENDPOINTS,
  type ApiEndpoint,
  Buckets,
  type DeadLetterSource,
  executionIdOf,
  MessageIds,
  Streams,
  SUBJECT_PREFIX,
  Subjects,
  WORKER_SERVICE,
} from './subjects.js';
export {
  CancelNotice,
  DispatchTask,
  malformedOutcomeAsFailure,
  OUTPUT_LIMIT_BYTES,
  TaskError,
  TaskFailedOutcome,
  TaskOutcome,
  TaskSucceededOutcome,
  TaskUsage,
} from './tasks.js';
export { Timer } from './timers.js';
