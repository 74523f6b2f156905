import {
  type DispatchTask,
  type ExecutionEvent,
  type JsonValue,
  MessageIds,
  type TaskError,
  type TaskOutcome,
  type TaskUsage,
  type Timer,
} from '@orchestra/contracts';
import {
  type Decision,
  type DecisionInput,
  decide,
  type Effect,
  type ExecutionState,
  effectsOf,
  fold,
  initialState,
  outboxEffects,
  type RerunSource,
} from '@orchestra/execution';

/** How a worker answers one dispatch; `silent` never answers, so the deadline timer fires. */
export type Answer =
  | { kind: 'succeed'; output: JsonValue; usage?: TaskUsage }
  | ({ kind: 'fail'; usage?: TaskUsage } & TaskError)
  | { kind: 'silent' };
/** The workers: the same world and plan give the same run. */
export type World = (command: DispatchTask) => Answer;

const dispatchId = (command: DispatchTask) =>
  MessageIds.dispatch(command.execution_id, command.task_id, command.attempt_number);
const timerId = (timer: Timer) => `${timer.kind}:${timer.task_id}:${timer.attempt_number}`;

/**
 * A tiny in-memory orchestrator for tests: keeps the event log, feeds inputs at the current time,
 * publishes the decided effects (dispatches deduplicated by message id, durable timers) and can
 * crash between appending events and publishing their effects.
 */
export class Simulation {
  readonly log: ExecutionEvent[] = [];
  state: ExecutionState = initialState();
  now = 1_000_000;
  /** Every DispatchTask published, once per attempt. */
  readonly dispatches: DispatchTask[] = [];
  /** Timers stored and not fired yet. */
  timers: Timer[] = [];
  cancelNotices = 0;
  /** How many inputs were decided. */
  decisions = 0;
  lastInput: DecisionInput | undefined;
  lastDecision: Decision | undefined;
  private readonly answered = new Set<string>();
  private beforeLast = { dispatches: 0, timers: [] as Timer[] };

  constructor(readonly executionId = 'exec-1') {}

  execute(plan: unknown): Decision {
    return this.input({ kind: 'execute', execution_id: this.executionId, plan });
  }

  /** Re-runs `source` (another simulation, finished) as this one's execution. */
  rerun(source: Simulation, options: { tasks?: string[]; plan?: unknown } = {}): Decision {
    return this.input({
      kind: 'rerun',
      execution_id: this.executionId,
      source: rerunSourceOf(source),
      ...options,
    });
  }

  cancel(reason?: string): Decision {
    return this.input({ kind: 'cancel', execution_id: this.executionId, reason });
  }

  input(input: DecisionInput): Decision {
    this.beforeLast = { dispatches: this.dispatches.length, timers: [...this.timers] };
    const decision = decide(this.state, input, { now: this.now });
    this.log.push(...decision.events);
    this.state = decision.state;
    this.publish(effectsOf(decision.state, decision.events));
    this.decisions += 1;
    this.lastInput = input;
    this.lastDecision = decision;
    return decision;
  }

  publish(effects: readonly Effect[]): void {
    for (const effect of effects) {
      if (effect.kind === 'dispatch') {
        const id = dispatchId(effect.command);
        if (!this.dispatches.some((command) => dispatchId(command) === id))
          this.dispatches.push(effect.command);
      } else if (effect.kind === 'timer') {
        const id = timerId(effect.timer);
        if (!this.timers.some((timer) => timerId(timer) === id)) this.timers.push(effect.timer);
      } else this.cancelNotices += 1;
    }
  }

  /**
   * The orchestrator dies after appending only the first `keep` events of the last decision and
   * before publishing any of its effects. On restart, as in production, the stored part of that
   * decision is redelivered to the outbox, which publishes `outboxEffects` of it against the
   * state folded from the log (every earlier record's effects went out before the crash).
   */
  crash(keep: number): void {
    const decided = this.lastDecision?.events.length ?? 0;
    const stored = this.lastDecision?.events.slice(0, Math.min(keep, decided)) ?? [];
    this.log.splice(this.log.length - decided + stored.length);
    this.dispatches.splice(this.beforeLast.dispatches);
    this.timers = this.beforeLast.timers;
    this.state = fold(this.log);
    this.publish(outboxEffects(this.state, stored));
  }

  /** The last dispatch of a task (of one attempt, if given). */
  dispatchOf(task_id: string, attempt?: number): DispatchTask {
    const command = this.dispatches.findLast(
      (c) => c.task_id === task_id && (attempt === undefined || c.attempt_number === attempt),
    );
    if (!command) throw new Error(`no dispatch of ${task_id}${attempt ? ` attempt ${attempt}` : ''}`);
    return command;
  }

  dispatchedTasks(): string[] {
    return this.dispatches.map((command) => command.task_id);
  }

  succeed(task_id: string, output: JsonValue = { ok: true }, attempt?: number): Decision {
    return this.answer(this.dispatchOf(task_id, attempt), { kind: 'succeed', output }) as Decision;
  }

  /** Fails the task's last attempt (or `attempt`); `error` may add a code or `retryable: false`. */
  fail(task_id: string, error: string | TaskError = 'boom', attempt?: number): Decision {
    const failure = typeof error === 'string' ? { message: error } : error;
    return this.answer(this.dispatchOf(task_id, attempt), { kind: 'fail', ...failure }) as Decision;
  }

  /** Sends a worker's answer to `command` (duration 5 ms); undefined for `silent`. */
  answer(command: DispatchTask, answer: Answer): Decision | undefined {
    this.answered.add(dispatchId(command));
    if (answer.kind === 'silent') return undefined;
    return this.outcome(outcomeOf(command, answer, this.now));
  }

  outcome(outcome: TaskOutcome): Decision {
    return this.input({ kind: 'outcome', outcome });
  }

  /** A pending timer of a task (its latest attempt, if there are several). */
  timerOf(kind: Timer['kind'], task_id: string): Timer {
    const timer = this.timers.findLast((t) => t.kind === kind && t.task_id === task_id);
    if (!timer) throw new Error(`no ${kind} timer for ${task_id}`);
    return timer;
  }

  /** Fires one timer, moving the clock to its due time if that is later. */
  fire(timer: Timer): Decision {
    this.now = Math.max(this.now, timer.due_at);
    this.timers = this.timers.filter((t) => t !== timer);
    return this.input({ kind: 'timer', timer });
  }

  /** Moves the clock and fires every timer that is due, earliest first. */
  advanceTo(now: number): Decision[] {
    this.now = now;
    const due = this.timers.filter((timer) => timer.due_at <= now).sort((a, b) => a.due_at - b.due_at);
    return due.map((timer) => this.fire(timer));
  }

  /**
   * One move of the world: the oldest unanswered dispatch gets its answer, or else the earliest
   * timer fires. False when nothing is left to do.
   */
  step(world: World): boolean {
    const command = this.dispatches.find((c) => !this.answered.has(dispatchId(c)));
    if (command) {
      this.answer(command, world(command));
      return true;
    }
    const timer = this.timers.reduce<Timer | undefined>(
      (a, b) => (a && a.due_at <= b.due_at ? a : b),
      undefined,
    );
    if (!timer) return false;
    this.fire(timer);
    return true;
  }

  /** Steps until nothing is left to do; throws after `maxSteps`. */
  run(world: World, maxSteps = 10_000): number {
    for (let steps = 0; steps < maxSteps; steps += 1) if (!this.step(world)) return steps;
    throw new Error(`still running after ${maxSteps} steps`);
  }

  types(): string[] {
    return this.log.map((event) => event.type);
  }

  eventsOf<T extends ExecutionEvent['type']>(type: T): Extract<ExecutionEvent, { type: T }>[] {
    return this.log.filter((event): event is Extract<ExecutionEvent, { type: T }> => event.type === type);
  }

  refold(): ExecutionState {
    return fold(this.log);
  }
}

/**
 * A finished simulation as a re-run's source: its fold, and for each task the position in its log
 * (standing for a stream sequence) of the event that gave the task its output.
 */
export function rerunSourceOf(source: Simulation): RerunSource {
  const outputSeq: Record<string, number> = {};
  source.log.forEach((event, index) => {
    if (event.type === 'TaskSucceeded' || event.type === 'TaskReused') outputSeq[event.task_id] = index + 1;
  });
  return { execution_id: source.executionId, state: source.state, outputSeq };
}

export function outcomeOf(
  command: DispatchTask,
  answer: Exclude<Answer, { kind: 'silent' }>,
  now: number,
): TaskOutcome {
  const common = {
    type: 'TaskOutcome' as const,
    execution_id: command.execution_id,
    phase_id: command.phase_id,
    task_id: command.task_id,
    attempt_number: command.attempt_number,
    plugin_used: command.plugin,
    duration_ms: 5,
    finished_at: now,
    ...(answer.usage ? { usage: answer.usage } : {}),
  };
  if (answer.kind === 'succeed') return { ...common, status: 'succeeded', output: answer.output };
  const { kind: _kind, usage: _usage, ...error } = answer;
  return { ...common, status: 'failed', error };
}
