import { type BusLogger, type Clock, errorFields } from '@orchestra/bus';
import { ConcurrencyError, type ExecutionEvent, type Timer, ValidationError } from '@orchestra/contracts';
import {
  type Decision,
  type DecisionInput,
  decide,
  type ExecutionState,
  effectsOf,
  fold,
  timerIsMoot,
} from '@orchestra/execution';
import { orchestraMetrics } from '@orchestra/observability';
import type { EffectPublisher } from './effect-publisher.js';
import type { ExecutionStore } from './execution-store.js';

const MAX_CONFLICTS = 20;

/** Events whose effects (a dispatch, a timer, a cancel notice) go out on the bus. */
const EFFECTFUL = new Set<ExecutionEvent['type']>([
  'TaskDispatched',
  'TaskRetryScheduled',
  'ExecutionCancelled',
  'TaskGaveUp',
]);

/**
 * The orchestrator's loop around the pure decider: load (cached fold) -> decide -> append with
 * the expected sequence. A conflict means another writer got there first: reload and decide
 * again. Inputs of one execution are handled one at a time here; other replicas are kept in
 * line by the expected sequence.
 *
 * Effects are not published by the decision that appends them: the event stream is the outbox.
 * `publishEffectsOf` runs for every stored event (a durable consumer of the events stream), so a
 * crash between append and publish only delays a dispatch until that event is redelivered.
 */
export class Orchestrator {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly effects: EffectPublisher,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
  ) {}

  handle(input: DecisionInput): Promise<Decision> {
    const id = executionIdOf(input);
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.decideAndAppend(id, input));
    this.queues.set(id, next);
    void next
      .finally(() => {
        if (this.queues.get(id) === next) this.queues.delete(id);
      })
      .catch(() => undefined);
    return next;
  }

  /** Publishes what one stored event asks for, if the execution still needs it. */
  async publishEffectsOf(event: ExecutionEvent, seq: number): Promise<void> {
    if (!EFFECTFUL.has(event.type)) return;
    const { state } = await this.store.atLeast(event.execution_id, seq);
    // Judged against the current state: a dispatch whose attempt already ended is not sent again.
    await this.effects.publish(effectsOf(state, [event]));
  }

  /**
   * A timer that the cached state already shows to be moot (its attempt ended, its retry was
   * dispatched) can be dropped before it is due. Without a cached state nothing is known: keep it.
   */
  isTimerMoot(timer: Timer): boolean {
    const cached = this.store.cached(timer.execution_id);
    return cached !== undefined && timerIsMoot(cached.state, timer);
  }

  private async decideAndAppend(id: string, input: DecisionInput): Promise<Decision> {
    for (let conflicts = 0; ; conflicts++) {
      let loaded = await this.store.load(id);
      let decision = decide(loaded.state, input, { now: this.clock.now() });
      if (decision.events.length === 0 && decision.ignored !== null) {
        // An ignored input may only look stale to a cache that another replica has moved past.
        loaded = await this.store.refresh(id);
        decision = decide(loaded.state, input, { now: this.clock.now() });
      }
      try {
        if (decision.events.length > 0)
          await this.store.append(id, decision.events, loaded.seq, decision.state);
      } catch (error) {
        if (error instanceof ValidationError && decision.events[0]?.type === 'ExecutionStarted') {
          // The server refused the plan's first event as too large: the plan cannot run here.
          return this.rejectTooLarge(id, loaded.seq, error);
        }
        if (error instanceof ConcurrencyError && conflicts < MAX_CONFLICTS) {
          orchestraMetrics().occConflicts.inc();
          this.logger.debug(
            { execution_id: id, conflicts, ...errorFields(error) },
            'append conflict, deciding again',
          );
          continue;
        }
        throw error;
      }
      this.logDecision(id, input, decision);
      return decision;
    }
  }

  private async rejectTooLarge(id: string, seq: number, error: ValidationError): Promise<Decision> {
    const rejection: ExecutionEvent = {
      type: 'ExecutionRejected',
      execution_id: id,
      at: this.clock.now(),
      reason: 'the plan is too large for one event on this server (raise its max_payload or split the plan)',
      issues: [{ path: '(root)', message: error.message }],
    };
    const state = fold([rejection]);
    await this.store.append(id, [rejection], seq, state);
    this.logger.info({ execution_id: id }, rejection.reason);
    return { events: [rejection], state, ignored: null };
  }

  private logDecision(id: string, input: DecisionInput, decision: Decision): void {
    if (decision.ignored) {
      const about = inputTaskFields(input, decision.state);
      this.logger.debug(
        { execution_id: id, ...about, input: input.kind, reason: decision.ignored },
        'input ignored',
      );
    }
    for (const event of decision.events) {
      const task = 'task_id' in event ? { phase_id: event.phase_id, task_id: event.task_id } : {};
      const attempt =
        'attempt_number' in event
          ? { attempt: event.attempt_number }
          : 'next_attempt_number' in event
            ? { attempt: event.next_attempt_number }
            : {};
      this.logger.debug({ execution_id: id, ...task, ...attempt }, event.type);
    }
  }
}

/** The task an input is about, for its log line. */
function inputTaskFields(input: DecisionInput, state: ExecutionState): object {
  if (input.kind === 'outcome') {
    const { phase_id, task_id, attempt_number } = input.outcome;
    return { phase_id, task_id, attempt: attempt_number };
  }
  if (input.kind !== 'timer') return {};
  const { task_id, attempt_number } = input.timer;
  return { phase_id: state.tasks[task_id]?.phase_id, task_id, attempt: attempt_number };
}

export function executionIdOf(input: DecisionInput): string {
  switch (input.kind) {
    case 'outcome':
      return input.outcome.execution_id;
    case 'timer':
      return input.timer.execution_id;
    default:
      return input.execution_id;
  }
}
