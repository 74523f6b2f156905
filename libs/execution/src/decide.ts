import {
  type ExecutionEvent,
  type Issue,
  LIMITS,
  type Plan,
  type TaskOutcome,
  type Timer,
  validatePlan,
} from '@orchestra/contracts';
import { advance } from './advance.js';
import { type Emitter, emitterFor } from './emitter.js';
import { draftOf } from './evolve.js';
import { type RerunSource, refused, selectRerun, sourceProblem } from './rerun.js';
import type { ExecutionState, TaskState } from './state.js';

/** What can happen to an execution from outside. The orchestrator resolves execution ids first. */
export type DecisionInput =
  | { kind: 'execute'; execution_id: string; plan: unknown }
  | { kind: 'cancel'; execution_id: string; reason?: string | undefined }
  /** `plan` (a corrected plan) defaults to the source's; `tasks` are `phase_id.task_id` to run again. */
  | { kind: 'rerun'; execution_id: string; source: RerunSource; plan?: unknown; tasks?: readonly string[] }
  /** Re-publish what the log implies for `tasks` (all in flight when none): see ExecutionRepaired. */
  | {
      kind: 'repair';
      execution_id: string;
      reason?: string | undefined;
      tasks?: readonly string[] | undefined;
    }
  | { kind: 'outcome'; outcome: TaskOutcome }
  | { kind: 'timer'; timer: Timer };

/** Everything the decider would otherwise take from the world: time (epoch ms). */
export interface DecisionContext {
  now: number;
}

export interface Decision {
  /** Events to append, in order. Empty when nothing changes. */
  events: ExecutionEvent[];
  /** The state after `events`, so a caller can keep it instead of folding again. */
  state: ExecutionState;
  /** Why the input itself changed nothing (duplicate, late, unknown), or null when it applied. */
  ignored: string | null;
}

/**
 * decide(state, input, ctx) -> events. Handles the input, then advances the execution as far as
 * the state allows (start phases, release tasks, resolve failures, finish). Advancing depends on
 * the state only, so a decision cut short by a crash is completed by the next one.
 */
export function decide(state: ExecutionState, input: DecisionInput, ctx: DecisionContext): Decision {
  const decision = decideAll(state, [input], ctx);
  return { events: decision.events, state: decision.state, ignored: decision.ignored[0] ?? null };
}

/** One decision over several inputs of one execution; `ignored[i]` is about `inputs[i]`. */
export interface BatchDecision {
  events: ExecutionEvent[];
  state: ExecutionState;
  ignored: (string | null)[];
}

/**
 * Handles several inputs of one execution in order, then advances once: the same events as
 * deciding them one by one (each input sees the effect of the earlier ones), in one decision, so
 * the orchestrator appends them together and copies the state once. Inputs for another
 * execution are ignored with the reason.
 */
export function decideAll(
  state: ExecutionState,
  inputs: readonly DecisionInput[],
  ctx: DecisionContext,
): BatchDecision {
  const draft = draftOf(state);
  const events: ExecutionEvent[] = [];
  const ignored: (string | null)[] = [];
  for (const input of inputs) {
    const executionId = inputExecutionId(input);
    if (draft.execution_id !== null && executionId !== draft.execution_id) {
      // Folding the wrong stream must not record another execution's outcome in this one.
      ignored.push(`input is for execution "${executionId}", not "${draft.execution_id}"`);
      continue;
    }
    ignored.push(handle(emitterFor(draft, events, executionId, ctx.now), input));
  }
  const executionId = draft.execution_id ?? (inputs[0] ? inputExecutionId(inputs[0]) : null);
  if (executionId !== null) advance(emitterFor(draft, events, executionId, ctx.now));
  // Only emitted events change the draft: without any, the state is the one given.
  return { events, state: events.length > 0 ? draft : state, ignored };
}

/** The execution an input is about. */
export function inputExecutionId(input: DecisionInput): string {
  switch (input.kind) {
    case 'outcome':
      return input.outcome.execution_id;
    case 'timer':
      return input.timer.execution_id;
    default:
      return input.execution_id;
  }
}

function handle(emitter: Emitter, input: DecisionInput): string | null {
  switch (input.kind) {
    case 'execute':
      return execute(emitter, input.execution_id, input.plan);
    case 'cancel':
      return cancel(emitter, input.reason);
    case 'rerun':
      return rerun(emitter, input);
    case 'repair':
      return repair(emitter, input);
    case 'outcome':
      return outcome(emitter, input.outcome);
    case 'timer':
      return timer(emitter, input.timer);
    default: {
      const _exhaustive: never = input;
      return _exhaustive;
    }
  }
}

function execute(emitter: Emitter, executionId: string, plan: unknown): string | null {
  const { state } = emitter;
  if (state.status !== 'new') return `execution ${executionId} already exists (${state.status})`;
  const validation = validatePlan(plan);
  if (!validation.ok) {
    reject(emitter, plan, `invalid plan: ${validation.issues.length} problem(s)`, validation.issues);
    return null;
  }
  emitter.emit({ type: 'ExecutionStarted', plan: validation.plan });
  return null;
}

/**
 * A re-run starts like any execution, linked to its source, and records every task it reuses
 * before anything runs; `advance` then treats them as succeeded (see rerun.ts for the selection).
 */
function rerun(emitter: Emitter, input: Extract<DecisionInput, { kind: 'rerun' }>): string | null {
  const { state } = emitter;
  if (state.status !== 'new') return `execution ${input.execution_id} already exists (${state.status})`;
  const plan = input.plan ?? input.source.state.plan;
  const problem = sourceProblem(input.source);
  if (problem !== undefined) {
    reject(emitter, plan, problem, refused(problem).issues);
    return null;
  }
  const validation = validatePlan(plan);
  if (!validation.ok) {
    reject(emitter, plan, `invalid plan: ${validation.issues.length} problem(s)`, validation.issues);
    return null;
  }
  const selection = selectRerun(input.source, validation.plan, input.tasks ?? []);
  if (!selection.ok) {
    reject(emitter, plan, selection.reason, selection.issues);
    return null;
  }
  const source = input.source.state;
  emitter.emit({ type: 'ExecutionStarted', plan: validation.plan, rerun_of: input.source.execution_id });
  for (const { phase_id, task_id, seq } of selection.reused) {
    // selectRerun reuses only tasks that succeeded in the source: plugin and attempt are known.
    const task = source.tasks[task_id] as TaskState;
    emitter.emit({
      type: 'TaskReused',
      phase_id,
      task_id,
      source_execution_id: input.source.execution_id,
      source_seq: seq,
      plugin_used: task.plugin ?? '',
      attempt_number: task.attempt_number,
      output: task.output,
      duration_ms: task.duration_ms ?? 0,
    });
  }
  return null;
}

function repair(emitter: Emitter, input: Extract<DecisionInput, { kind: 'repair' }>): string | null {
  const { state } = emitter;
  if (state.status === 'new') return 'unknown execution';
  if (state.status !== 'running') return `execution already ended (${state.result ?? state.status})`;
  const unknown = (input.tasks ?? []).filter((task_id) => state.tasks[task_id] === undefined);
  if (unknown.length > 0) return `not tasks of the plan: ${unknown.join(', ')}`;
  emitter.emit({
    type: 'ExecutionRepaired',
    reason: input.reason ?? 'repair requested',
    tasks: [...(input.tasks ?? [])],
    repair: state.repairs + 1,
  });
  return null;
}

function reject(emitter: Emitter, plan: unknown, reason: string, issues: readonly Issue[]): void {
  const planId = (plan as Partial<Plan> | null)?.plan_id;
  emitter.emit({
    type: 'ExecutionRejected',
    ...(typeof planId === 'string' ? { plan_id: planId } : {}),
    reason,
    // Bounded, so that the rejection itself fits in one event.
    issues: issues.slice(0, LIMITS.issuesPerRejection).map((issue) => ({
      path: issue.path.slice(0, 1024),
      message: issue.message.slice(0, 2048),
    })),
  });
}

function cancel(emitter: Emitter, reason: string | undefined): string | null {
  const { state } = emitter;
  if (state.status === 'new') return 'unknown execution';
  if (state.status !== 'running') return `execution already ended (${state.result ?? state.status})`;
  if (state.stopping) return `execution is already stopping (${state.stopping.reason})`;
  emitter.emit({ type: 'ExecutionCancelled', reason: reason ?? 'cancelled on request' });
  return null;
}

function outcome(emitter: Emitter, answer: TaskOutcome): string | null {
  const { state } = emitter;
  if (state.status === 'new') return 'unknown execution';
  if (state.status !== 'running') return `execution already ended (${state.result ?? state.status})`;
  const reason = staleOutcomeReason(state, answer);
  if (reason) {
    emitter.emit({
      type: 'OutcomeIgnored',
      phase_id: answer.phase_id,
      task_id: answer.task_id,
      attempt_number: answer.attempt_number,
      reason,
    });
    return reason;
  }
  const common = {
    phase_id: answer.phase_id,
    task_id: answer.task_id,
    attempt_number: answer.attempt_number,
    plugin_used: answer.plugin_used,
    duration_ms: answer.duration_ms,
  };
  const usage = answer.usage !== undefined ? { usage: answer.usage } : {};
  if (answer.status === 'succeeded') {
    emitter.emit({ type: 'TaskSucceeded', ...common, output: answer.output, ...usage });
    return null;
  }
  const { message, code, retryable } = answer.error;
  emitter.emit({
    type: 'TaskFailed',
    ...common,
    error: message,
    ...(code !== undefined ? { code } : {}),
    ...(retryable === false ? { retryable: false as const } : {}),
    ...usage,
  });
  return null;
}

/** Why an outcome cannot apply to the current attempt, or undefined when it can. */
export function staleOutcomeReason(state: ExecutionState, answer: TaskOutcome): string | undefined {
  const task = state.tasks[answer.task_id];
  if (!task) return `task "${answer.task_id}" is not in the plan`;
  if (task.phase_id !== answer.phase_id)
    return `task "${answer.task_id}" is in phase "${task.phase_id}", not "${answer.phase_id}"`;
  if (answer.attempt_number > task.attempt_number)
    return `attempt ${answer.attempt_number} was never dispatched`;
  if (answer.attempt_number < task.attempt_number) {
    return `attempt ${answer.attempt_number} is no longer current (attempt ${task.attempt_number} is)`;
  }
  if (task.status !== 'running') {
    const ended = task.last_failure === 'timeout' ? 'timed out' : task.status;
    return `attempt ${answer.attempt_number} already ended (${ended})`;
  }
  if (task.plugin !== answer.plugin_used) {
    return `attempt ${answer.attempt_number} was dispatched to "${task.plugin}", not "${answer.plugin_used}"`;
  }
  return undefined;
}

function timer(emitter: Emitter, fired: Timer): string | null {
  const { state, now } = emitter;
  if (state.status !== 'running') return 'execution is not running';
  const task = state.tasks[fired.task_id];
  if (!task) return `task "${fired.task_id}" is not in the plan`;
  if (fired.kind === 'retry') {
    if (task.status !== 'retry_wait' || task.attempt_number + 1 !== fired.attempt_number)
      return 'retry already done';
    return (task.retry_due_at ?? 0) > now ? 'retry not due yet' : null;
  }
  // A deadline timer stands for every attempt dispatched with the same deadline (effectsOf
  // publishes one per deadline): every running attempt whose deadline has passed times out.
  const overdue = Object.values(state.tasks).filter(
    (candidate) => candidate.status === 'running' && (candidate.deadline_at ?? 0) <= now,
  );
  if (overdue.length === 0) {
    const named = task.status === 'running' && task.attempt_number === fired.attempt_number;
    return named ? 'deadline not reached yet' : `attempt ${fired.attempt_number} already ended`;
  }
  for (const late of overdue) {
    const deadline = late.deadline_at ?? 0;
    emitter.emit({
      type: 'TaskTimedOut',
      phase_id: late.phase_id,
      task_id: late.task_id,
      attempt_number: late.attempt_number,
      plugin_used: late.plugin ?? '',
      duration_ms: Math.max(0, deadline - (late.dispatched_at ?? deadline)),
    });
  }
  return null;
}
