import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, publishJson } from '@orchestra/bus';
import { MessageIds, Subjects } from '@orchestra/contracts';
import type { Effect } from '@orchestra/execution';

/**
 * Publishes the effects of appended events. Dispatches and timers carry message ids derived from
 * the attempt, so publishing them again after a crash stores nothing new.
 */
export class EffectPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  async publish(effects: readonly Effect[]): Promise<void> {
    await Promise.all(effects.map((effect) => this.publishOne(effect)));
  }

  private async publishOne(effect: Effect): Promise<void> {
    switch (effect.kind) {
      case 'dispatch': {
        const { command } = effect;
        await publishJson(this.js, Subjects.tasks(command.plugin), command, {
          msgID: MessageIds.dispatch(command.execution_id, command.task_id, command.attempt_number),
        });
        return;
      }
      case 'timer': {
        const { timer } = effect;
        const id = timer.kind === 'deadline' ? MessageIds.deadline : MessageIds.retry;
        await publishJson(this.js, Subjects.timers(timer.execution_id), timer, {
          msgID: id(timer.execution_id, timer.task_id, timer.attempt_number),
        });
        return;
      }
      case 'cancel-notice':
        this.nc.publish(
          Subjects.cancelNotice(effect.execution_id),
          encode({ execution_id: effect.execution_id }),
        );
        return;
      default: {
        const _exhaustive: never = effect;
        return _exhaustive;
      }
    }
  }
}
