import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, publishJson } from '@orchestra/bus';
import { type CancelNotice, MessageIds, Subjects, type Timer } from '@orchestra/contracts';
import type { Effect } from '@orchestra/execution';
import { LRUCache } from 'lru-cache';

const MAX_REMEMBERED_DEADLINES = 20_000;
const PUBLISHES_BETWEEN_YIELDS = 256;

/** A repair's copy of a message gets an id of its own (see ExecutionRepaired). */
const repaired = (msgID: string, repair: number | undefined) =>
  repair === undefined ? msgID : MessageIds.repaired(msgID, repair);

/**
 * Publishes the effects of appended events. Dispatches and timers carry message ids derived from
 * the attempt, so publishing them again after a crash stores nothing new.
 */
export class EffectPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  /**
   * Deadline timers this process has stored, by message id: the attempts of an execution whose
   * deadlines fall due together share one, and publishing it again on every step would only be
   * deduplicated by the server. Forgetting one costs a duplicate publish, nothing more.
   */
  private readonly deadlines = new LRUCache<string, Promise<unknown>>({ max: MAX_REMEMBERED_DEADLINES });

  /**
   * Publishes all at once (pipelined), but gives the event loop back every few hundred publishes:
   * a wide phase's thousands of dispatches would otherwise hold it for seconds, and with it the
   * keep-alives of the messages this process holds.
   */
  async publish(effects: readonly Effect[]): Promise<void> {
    const failures: unknown[] = [];
    const published: Promise<void>[] = [];
    for (const [index, effect] of effects.entries()) {
      if (index > 0 && index % PUBLISHES_BETWEEN_YIELDS === 0) await new Promise(setImmediate);
      // Caught at once: a failure must not go unhandled while this loop yields.
      published.push(this.publishOne(effect).catch((error: unknown) => void failures.push(error)));
    }
    await Promise.all(published);
    if (failures.length > 0) throw failures[0];
  }

  private async publishOne(effect: Effect): Promise<void> {
    switch (effect.kind) {
      case 'dispatch': {
        const { command } = effect;
        const msgID = MessageIds.dispatch(command.execution_id, command.task_id, command.attempt_number);
        await publishJson(this.js, Subjects.tasks(command.plugin), command, {
          msgID: repaired(msgID, effect.repair),
        });
        return;
      }
      case 'timer': {
        const { timer } = effect;
        if (timer.kind === 'retry') {
          const msgID = MessageIds.retry(timer.execution_id, timer.task_id, timer.attempt_number);
          await publishJson(this.js, Subjects.timers(timer.execution_id), timer, {
            msgID: repaired(msgID, effect.repair),
          });
          return;
        }
        await this.publishDeadline(timer, effect.repair);
        return;
      }
      case 'cancel-notice':
        this.nc.publish(
          Subjects.cancelNotice(effect.execution_id),
          encode({ execution_id: effect.execution_id } satisfies CancelNotice),
        );
        return;
      default: {
        const _exhaustive: never = effect;
        return _exhaustive;
      }
    }
  }

  private async publishDeadline(timer: Timer, repair: number | undefined): Promise<void> {
    const msgID = repaired(MessageIds.deadline(timer.execution_id, timer.due_at), repair);
    const stored = this.deadlines.peek(msgID);
    if (stored) {
      await stored;
      return;
    }
    const publishing = publishJson(this.js, Subjects.timers(timer.execution_id), timer, { msgID });
    this.deadlines.set(msgID, publishing);
    try {
      await publishing;
    } catch (error) {
      this.deadlines.delete(msgID);
      throw error;
    }
  }
}
