import { setTimeout as sleep } from 'node:timers/promises';
import { type BusLogger, type Clock, errorFields, GENESIS } from '@orchestra/bus';
import { ConcurrencyError, type ExecutionEvent, type Timer, ValidationError } from '@orchestra/contracts';
import {
  type Decision,
  type DecisionInput,
  decideAll,
  type Effect,
  type ExecutionState,
  effectsOf,
  fold,
  hasEffects,
  initialState,
  inputExecutionId,
  outboxEffects,
  timerIsMoot,
} from '@orchestra/execution';
import { orchestraMetrics } from '@orchestra/observability';
import { LRUCache } from 'lru-cache';
import { conflictBackoffMs } from './conflict-backoff.js';
import type { EffectPublisher } from './effect-publisher.js';
import type { ExecutionStore, LoadedExecution } from './execution-store.js';

const MAX_CONFLICTS = 20;

/** Records whose directly published effects are remembered for the outbox (another replica's outbox may take them). */
const MAX_PUBLISHED_ENTRIES = 20_000;

/** Inputs of one execution decided together at most (the rest wait for the next decision). */
const MAX_BATCH = 1_000;

interface PendingInput {
  input: DecisionInput;
  resolve: (decision: Decision) => void;
  reject: (error: unknown) => void;
}

/**
 * The orchestrator's loop around the pure decider: load (cached fold) -> decide -> append with
 * the expected sequence. A conflict means another writer got there first: reload and decide
 * again. Inputs of one execution are decided one decision at a time here (other replicas are
 * kept in line by the expected sequence); the inputs that arrive while a decision is being
 * appended wait, and are then decided together and appended as one record (group commit): a
 * wide phase's outcomes cost a round trip per batch, not per outcome.
 *
 * The event stream is the outbox: `publishEffectsOf` runs for every stored record (a durable
 * consumer of the events stream), so a crash between append and publish only delays a dispatch
 * until that record is redelivered. To save the outbox's hop on every step, the replica that
 * appended a record also publishes its effects as soon as the append is acknowledged (never
 * before: append before effect); the outbox then only acknowledges what was published.
 */
export class Orchestrator {
  /** Inputs waiting for the next decision of their execution. */
  private readonly waiting = new Map<string, PendingInput[]>();
  /** Executions with a decision in progress. */
  private readonly deciding = new Set<string>();
  /**
   * Records whose effects this replica published right after appending them (by stream
   * sequence), each with whether that publish succeeded; the outbox takes them out. Forgetting
   * the oldest only makes the outbox publish those effects again (deduplicated).
   */
  private readonly published = new LRUCache<number, Promise<boolean>>({ max: MAX_PUBLISHED_ENTRIES });

  constructor(
    private readonly store: ExecutionStore,
    private readonly effects: EffectPublisher,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
  ) {}

  handle(input: DecisionInput): Promise<Decision> {
    const id = inputExecutionId(input);
    return new Promise<Decision>((resolve, reject) => {
      const queue = this.waiting.get(id);
      if (queue) queue.push({ input, resolve, reject });
      else this.waiting.set(id, [{ input, resolve, reject }]);
      if (!this.deciding.has(id)) void this.drain(id);
    });
  }

  /**
   * Publishes what the stored record at `seq` asks for, if the execution still needs it. A record
   * this replica appended had its effects published right after (and is not read again); any
   * other is read and checked first; an invalid one is left alone (see the outbox handler).
   */
  async publishEffectsOf(executionId: string, seq: number): Promise<void> {
    await this.store.settled(executionId);
    const direct = this.published.peek(seq);
    if (direct) {
      this.published.delete(seq);
      if (await direct) return;
    }
    const record = await this.store.record(seq);
    // Gone (past the stream's retention): nothing can be owed for an execution that old.
    if (record === undefined) return;
    if (!record.ok) {
      const { reason, issues } = record;
      this.logger.warn({ execution_id: executionId, seq, reason, issues }, 'invalid record: no effects');
      return;
    }
    if (!hasEffects(record.events)) return;
    const { state } = await this.store.atLeast(executionId, seq);
    await this.effects.publish(outboxEffects(state, record.events));
  }

  /**
   * A timer that the cached state already shows to be moot (its retry was dispatched, its
   * execution ended: see timerIsMoot) can be dropped before it is due. Without a cached state
   * nothing is known: keep it.
   */
  isTimerMoot(timer: Timer): boolean {
    const cached = this.store.cached(timer.execution_id);
    return cached !== undefined && timerIsMoot(cached.state, timer);
  }

  private async drain(id: string): Promise<void> {
    this.deciding.add(id);
    try {
      for (;;) {
        const queue = this.waiting.get(id);
        if (!queue || queue.length === 0) break;
        const batch = queue.length > MAX_BATCH ? queue.splice(0, MAX_BATCH) : queue;
        if (batch === queue) this.waiting.delete(id);
        try {
          const decisions = await this.decideAndAppend(
            id,
            batch.map((pending) => pending.input),
          );
          for (const [index, pending] of batch.entries()) pending.resolve(decisions[index] as Decision);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.deciding.delete(id);
    }
  }

  private async decideAndAppend(id: string, inputs: readonly DecisionInput[]): Promise<Decision[]> {
    for (let conflicts = 0; ; conflicts++) {
      let loaded = await this.load(id, inputs, conflicts);
      let decision = decideAll(loaded.state, inputs, { now: this.clock.now() });
      if (decision.events.length === 0 && decision.ignored.some((reason) => reason !== null)) {
        // An ignored input may only look stale to a cache that another replica has moved past.
        loaded = await this.store.refresh(id);
        decision = decideAll(loaded.state, inputs, { now: this.clock.now() });
      }
      try {
        if (decision.events.length > 0) {
          const { events, state } = decision;
          await this.store.append(id, events, loaded, state, (seq) =>
            this.publishAfterAppend(id, seq, effectsOf(state, events)),
          );
        }
      } catch (error) {
        if (error instanceof ValidationError && decision.events[0]?.type === 'ExecutionStarted') {
          // The server refused the plan's first event as too large: the plan cannot run here.
          return this.rejectTooLarge(id, inputs, loaded, error);
        }
        if (error instanceof ConcurrencyError && conflicts < MAX_CONFLICTS) {
          orchestraMetrics().occConflicts.inc();
          this.logger.debug(
            { execution_id: id, conflicts, ...errorFields(error) },
            'append conflict, deciding again',
          );
          await sleep(conflictBackoffMs(conflicts));
          continue;
        }
        throw error;
      }
      const { events, state } = decision;
      countStored(events, this.clock.now());
      const decisions = inputs.map((input, index) => {
        const ignored = decision.ignored[index] ?? null;
        if (ignored) this.logIgnored(id, input, ignored, state);
        return { events, state, ignored };
      });
      this.logEvents(id, events);
      return decisions;
    }
  }

  /**
   * Publishes a just-appended decision's effects without waiting for the outbox. The input is
   * acknowledged without waiting for it either: should this fail or the process die, the outbox
   * publishes them from the stored record.
   */
  private publishAfterAppend(id: string, seq: number, effects: readonly Effect[]): void {
    // Every record this replica appends is noted, with or without effects: the outbox then
    // reads none of them again.
    if (effects.length === 0) {
      this.published.set(seq, NOTHING_TO_PUBLISH);
      return;
    }
    const ok = this.effects.publish(effects).then(
      () => true,
      (error: unknown) => {
        this.logger.warn({ execution_id: id, seq, ...errorFields(error) }, 'effects left to the outbox');
        return false;
      },
    );
    this.published.set(seq, ok);
  }

  /**
   * The state to decide on. A new plan's execution is assumed not to exist yet when nothing is
   * cached, without reading its subject: the append then expects the subject to be empty, so a
   * redelivered command for an execution that does exist conflicts and is decided again on the
   * state read from the log.
   */
  private load(id: string, inputs: readonly DecisionInput[], conflicts: number): Promise<LoadedExecution> {
    const cached = this.store.cached(id);
    if (cached) return Promise.resolve(cached);
    if (conflicts === 0 && (inputs[0]?.kind === 'execute' || inputs[0]?.kind === 'rerun'))
      return Promise.resolve({ state: initialState(), seq: 0, head: GENESIS });
    return this.store.load(id);
  }

  private async rejectTooLarge(
    id: string,
    inputs: readonly DecisionInput[],
    after: { seq: number; head: string },
    error: ValidationError,
  ): Promise<Decision[]> {
    const rejection: ExecutionEvent = {
      type: 'ExecutionRejected',
      execution_id: id,
      at: this.clock.now(),
      reason: 'the plan is too large for one event on this server (raise its max_payload or split the plan)',
      issues: [{ path: '(root)', message: error.message }],
    };
    const state = fold([rejection]);
    await this.store.append(id, [rejection], after, state);
    countStored([rejection], this.clock.now());
    this.logger.info({ execution_id: id }, rejection.reason);
    return inputs.map((input) => ({
      events: [rejection],
      state,
      ignored: input.kind === 'execute' ? null : 'the execution was rejected: its plan is too large',
    }));
  }

  private logIgnored(id: string, input: DecisionInput, reason: string, state: ExecutionState): void {
    const about = inputTaskFields(input, state);
    this.logger.debug({ execution_id: id, ...about, input: input.kind, reason }, 'input ignored');
  }

  private logEvents(id: string, events: readonly ExecutionEvent[]): void {
    for (const event of events) {
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

const NOTHING_TO_PUBLISH = Promise.resolve(true);

/** Every stored event is counted once, by the replica that appended it. */
function countStored(events: readonly ExecutionEvent[], now: number): void {
  const metrics = orchestraMetrics();
  for (const event of events) metrics.eventStored(event, now);
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
