import { type BusLogger, type Clock, errorFields } from '@orchestra/bus';
import { ConcurrencyError } from '@orchestra/contracts';
import { type Decision, type DecisionInput, decide, effectsOf, inFlightEffects } from '@orchestra/execution';
import type { EffectPublisher } from './effect-publisher.js';
import type { ExecutionStore } from './execution-store.js';

export interface HandleOptions {
  /** The input was delivered before: a crash may have cut the previous handling short. */
  redelivered: boolean;
}

const MAX_CONFLICTS = 20;

/**
 * The orchestrator's one loop, around the pure decider: load (cached fold) -> decide -> append
 * with the expected sequence -> publish effects. A conflict means another writer got there
 * first: reload and decide again. Inputs of one execution are handled one at a time here;
 * other replicas are kept in line by the expected sequence.
 */
export class Orchestrator {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ExecutionStore,
    private readonly effects: EffectPublisher,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
  ) {}

  handle(input: DecisionInput, options: HandleOptions): Promise<Decision> {
    const id = executionIdOf(input);
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.decideAndAppend(id, input, options));
    this.queues.set(id, next);
    void next
      .finally(() => {
        if (this.queues.get(id) === next) this.queues.delete(id);
      })
      .catch(() => undefined);
    return next;
  }

  private async decideAndAppend(id: string, input: DecisionInput, options: HandleOptions): Promise<Decision> {
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
        if (error instanceof ConcurrencyError && conflicts < MAX_CONFLICTS) {
          this.logger.debug(
            { execution_id: id, conflicts, ...errorFields(error) },
            'append conflict, deciding again',
          );
          continue;
        }
        throw error;
      }
      this.logDecision(id, input, decision);
      const effects = options.redelivered
        ? inFlightEffects(decision.state).concat(
            effectsOf(decision.state, decision.events).filter((e) => e.kind === 'cancel-notice'),
          )
        : effectsOf(decision.state, decision.events);
      await this.effects.publish(effects);
      if (decision.state.status === 'finished' || decision.state.status === 'rejected') this.store.forget(id);
      return decision;
    }
  }

  private logDecision(id: string, input: DecisionInput, decision: Decision): void {
    if (decision.ignored)
      this.logger.debug({ execution_id: id, input: input.kind, reason: decision.ignored }, 'input ignored');
    for (const event of decision.events) {
      const task = 'task_id' in event ? { phase_id: event.phase_id, task_id: event.task_id } : {};
      const attempt = 'attempt_number' in event ? { attempt: event.attempt_number } : {};
      this.logger.debug({ execution_id: id, ...task, ...attempt }, event.type);
    }
  }
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
