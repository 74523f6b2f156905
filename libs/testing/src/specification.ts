import {
  type ExecutionEvent,
  type JsonObject,
  type JsonValue,
  type Plan,
  type PlanInput,
  type TaskError,
  type TaskOutcome,
  type TaskUsage,
  type Timer,
  validatePlan,
} from '@orchestra/contracts';
import { type DecisionInput, decide, type ExecutionState, fold } from '@orchestra/execution';

/** The time of the history's events, unless one says otherwise (epoch ms). */
export const T0 = 1_000_000;
const EXECUTION = 'exec-1';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as a rule writes it (libs/execution's NewEvent): the spec adds the execution id. */
type NewEvent = DistributiveOmit<ExecutionEvent, 'execution_id' | 'at'>;
type Draft = NewEvent & { at?: number };
type Attempt = { attempt?: number; at?: number };

/**
 * Given/when/then for the decider, in the style of emmett's DeciderSpecification: a history of
 * events, one input at a time `now`, and exactly the events it must decide (or why it is
 * ignored). Events are written with the builders of `specFor(plan)`, which fill what the plan
 * implies (ids, input, deadlines), so a rule's test reads as the rule.
 *
 *   const s = specFor(onePhase([task('a', { retries: 1 })]));
 *   s.given(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
 *     .when(s.failure('a', 'boom'), { now: T0 + 5 })
 *     .then(s.failed('a', 'boom'), s.retryScheduled('a', { delay_ms: 200 }))
 *     .when(s.timer('retry', 'a', 2, T0 + 205), { now: T0 + 205 })
 *     .then(s.dispatched('a', { attempt: 2, kind: 'retry' }));
 *
 * Each `then` continues from the state it leaves, so a flow of several steps reads in order.
 */
export function specFor(planInput: PlanInput, execution_id = EXECUTION) {
  const validation = validatePlan(planInput);
  if (!validation.ok) throw new Error(`invalid plan in a spec: ${JSON.stringify(validation.issues)}`);
  const plan: Plan = validation.plan;
  const tasks = new Map(
    plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.task_id, { task, phase }])),
  );
  const entry = (task_id: string) => {
    const found = tasks.get(task_id);
    if (!found) throw new Error(`task ${task_id} is not in the spec's plan`);
    return found;
  };
  const ref = (task_id: string) => ({ phase_id: entry(task_id).phase.phase_id, task_id });
  /**
   * The stored event: the execution id, the time (the draft's own, else `at`), and the times a
   * builder derives from it when the draft does not fix them (a dispatch's deadline, a retry's
   * due time), so that an event decided at `now` is written without repeating `now`.
   */
  const complete = (draft: Draft, at: number): ExecutionEvent => {
    const time = draft.at ?? at;
    const event = { ...draft, execution_id, at: time } as ExecutionEvent;
    if (event.type === 'TaskDispatched' && event.deadline_at === undefined)
      event.deadline_at = time + entry(event.task_id).task.timeout_ms;
    if (event.type === 'TaskRetryScheduled' && event.due_at === undefined)
      event.due_at = time + event.delay_ms;
    return event;
  };
  /** A draft's own time, when the test fixes one. */
  const stamped = ({ at }: { at?: number }) => (at !== undefined ? { at } : {});
  const outcomeBase = (task_id: string, attempt: number, plugin?: string) => ({
    type: 'TaskOutcome' as const,
    execution_id,
    ...ref(task_id),
    attempt_number: attempt,
    plugin_used: plugin ?? entry(task_id).task.assigned_plugin,
    duration_ms: 5,
    finished_at: T0,
  });

  const events = {
    started: (): Draft => ({ type: 'ExecutionStarted', plan }),
    phaseStarted: (phase_id: string): Draft => ({ type: 'PhaseStarted', phase_id }),
    phaseFinished: (
      phase_id: string,
      status: Extract<NewEvent, { type: 'PhaseFinished' }>['status'],
    ): Draft => ({
      type: 'PhaseFinished',
      phase_id,
      status,
    }),
    /**
     * A dispatch at `at` (default: the event's time): first attempt, assigned plugin (the
     * fallback plugin for kind `fallback`), the plan's input, the deadline `timeout_ms` later.
     */
    dispatched: (
      task_id: string,
      options: Attempt & { kind?: 'first' | 'retry' | 'fallback'; plugin?: string; input?: JsonObject } = {},
    ): Draft => {
      const { task } = entry(task_id);
      const kind = options.kind ?? 'first';
      return {
        type: 'TaskDispatched',
        ...ref(task_id),
        attempt_number: options.attempt ?? 1,
        kind,
        plugin:
          options.plugin ?? (kind === 'fallback' ? (task.fallback_plugin as string) : task.assigned_plugin),
        input_context: options.input ?? task.input_context,
        ...(options.at !== undefined ? { at: options.at, deadline_at: options.at + task.timeout_ms } : {}),
      } as Draft;
    },
    succeeded: (
      task_id: string,
      output: JsonValue,
      options: Attempt & { plugin?: string; usage?: TaskUsage } = {},
    ): Draft => ({
      type: 'TaskSucceeded',
      ...ref(task_id),
      attempt_number: options.attempt ?? 1,
      plugin_used: options.plugin ?? entry(task_id).task.assigned_plugin,
      output,
      duration_ms: 5,
      ...(options.usage ? { usage: options.usage } : {}),
      ...stamped(options),
    }),
    failed: (
      task_id: string,
      error: string | TaskError,
      options: Attempt & { plugin?: string } = {},
    ): Draft => {
      const { message, code, retryable } = typeof error === 'string' ? { message: error } : error;
      return {
        type: 'TaskFailed',
        ...ref(task_id),
        attempt_number: options.attempt ?? 1,
        plugin_used: options.plugin ?? entry(task_id).task.assigned_plugin,
        error: message,
        ...(code !== undefined ? { code } : {}),
        ...(retryable === false ? { retryable: false as const } : {}),
        duration_ms: 5,
        ...stamped(options),
      };
    },
    timedOut: (
      task_id: string,
      options: Attempt & { plugin?: string; duration_ms?: number } = {},
    ): Draft => ({
      type: 'TaskTimedOut',
      ...ref(task_id),
      attempt_number: options.attempt ?? 1,
      plugin_used: options.plugin ?? entry(task_id).task.assigned_plugin,
      duration_ms: options.duration_ms ?? entry(task_id).task.timeout_ms,
      ...stamped(options),
    }),
    /** A retry of attempt `next` (default 2) scheduled at `at` (default: the event's time), due `delay_ms` later. */
    retryScheduled: (task_id: string, options: { next?: number; delay_ms: number; at?: number }): Draft =>
      ({
        type: 'TaskRetryScheduled',
        ...ref(task_id),
        next_attempt_number: options.next ?? 2,
        delay_ms: options.delay_ms,
        ...(options.at !== undefined ? { at: options.at, due_at: options.at + options.delay_ms } : {}),
      }) as Draft,
    skipped: (task_id: string, reason: string): Draft => ({ type: 'TaskSkipped', ...ref(task_id), reason }),
    gaveUp: (task_id: string, status: 'failed' | 'timeout', reason: string): Draft => ({
      type: 'TaskGaveUp',
      ...ref(task_id),
      status,
      reason,
    }),
    cancelled: (reason = 'cancelled on request'): Draft => ({ type: 'ExecutionCancelled', reason }),
    finished: (status: Extract<NewEvent, { type: 'ExecutionFinished' }>['status']): Draft => ({
      type: 'ExecutionFinished',
      status,
    }),
  };

  const inputs = {
    execute: (input: unknown = planInput): DecisionInput => ({ kind: 'execute', execution_id, plan: input }),
    cancel: (reason?: string): DecisionInput => ({ kind: 'cancel', execution_id, reason }),
    success: (
      task_id: string,
      output: JsonValue,
      options: { attempt?: number; plugin?: string; usage?: TaskUsage } = {},
    ): DecisionInput => {
      const outcome: TaskOutcome = {
        ...outcomeBase(task_id, options.attempt ?? 1, options.plugin),
        status: 'succeeded',
        output,
        ...(options.usage ? { usage: options.usage } : {}),
      };
      return { kind: 'outcome', outcome };
    },
    failure: (
      task_id: string,
      error: string | TaskError,
      options: { attempt?: number; plugin?: string } = {},
    ): DecisionInput => ({
      kind: 'outcome',
      outcome: {
        ...outcomeBase(task_id, options.attempt ?? 1, options.plugin),
        status: 'failed',
        error: typeof error === 'string' ? { message: error } : error,
      },
    }),
    timer: (kind: Timer['kind'], task_id: string, attempt_number: number, due_at: number): DecisionInput => ({
      kind: 'timer',
      timer: { type: 'Timer', kind, execution_id, task_id, attempt_number, due_at },
    }),
  };

  /** A state and what can be decided on it; each `then` gives the next one, so steps chain. */
  const scenario = (state: ExecutionState) => ({
    state,
    /** Decides one input at `now` (default T0). */
    when(input: DecisionInput, { now = T0 }: { now?: number } = {}) {
      const decision = decide(state, input, { now });
      const next = () => ({ ...decision, ...scenario(decision.state) });
      return {
        decision,
        /** Exactly these events, in order, stamped with the decision's time unless they say. */
        // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited
        then(...expected: Draft[]) {
          expect(decision.events).toEqual(expected.map((draft) => complete(draft, now)));
          expect(decision.ignored).toBeNull();
          return next();
        },
        /**
         * The input changed nothing, for this reason: no event and the very same state; with
         * `recorded` (an outcome of a running execution), one OutcomeIgnored that says why and
         * nothing else but the counters.
         */
        thenIgnored(reason: string, { recorded = false } = {}) {
          expect(decision.ignored).toBe(reason);
          if (!recorded) {
            expect(decision.events).toEqual([]);
            expect(decision.state).toBe(state);
            return next();
          }
          if (input.kind !== 'outcome') throw new Error('only an outcome is recorded as ignored');
          const { phase_id, task_id, attempt_number } = input.outcome;
          const event = { type: 'OutcomeIgnored' as const, phase_id, task_id, attempt_number, reason };
          expect(decision.events).toEqual([complete(event, now)]);
          expect(withoutCounters(decision.state)).toEqual(withoutCounters(state));
          expect(decision.state.ignored).toBe(state.ignored + 1);
          return next();
        },
      };
    },
  });

  return {
    plan,
    ...events,
    ...inputs,
    /** The history: events in order (`at` defaults to T0). */
    given: (...history: Draft[]) => scenario(fold(history.map((draft) => complete(draft, T0)))),
  };
}

/** A state without the counters an ignored input moves. */
const withoutCounters = ({ version: _version, ignored: _ignored, ...rest }: ExecutionState) => rest;
