// The public API of libs/execution: what services, the CLI and tools may use. Internals (the
// in-place fold, the rules' emitter) stay behind it; see docs/architecture.md.

export {
  type BatchDecision,
  type Decision,
  type DecisionContext,
  type DecisionInput,
  decide,
  decideAll,
  inputExecutionId,
  staleOutcomeReason,
} from './decide.js';
export { type ExecutionDecider, executionDecider } from './decider.js';
export {
  deadlineTimerDue,
  type Effect,
  effectsOf,
  hasEffects,
  inFlightEffects,
  outboxEffects,
  timerIsMoot,
} from './effects.js';
export { ExecutionFold, evolve, fold } from './evolve.js';
export { backoffDelay, type NextStep, nextStepAfterFailure } from './failure-policy.js';
export { buildPlanIndex } from './plan-index.js';
export { executionStatus, fitResults, toExecutionContext, toExecutionResults } from './projections.js';
export {
  type RerunSelection,
  type RerunSource,
  type ReusedTask,
  selectRerun,
  sourceProblem,
} from './rerun.js';
export { type OutputLookup, type Resolution, resolveInput } from './resolve.js';
export {
  type AttemptKind,
  type AttemptRecord,
  type ExecutionError,
  type ExecutionState,
  initialState,
  isTerminal,
  type PhaseState,
  type PlanIndex,
  type TaskIndexEntry,
  type TaskState,
  type TaskStatus,
  TERMINAL_TASK_STATUSES,
} from './state.js';
