import type { ConsumerBinding } from '@orchestra/bus';
import { CancelExecution, ExecutePlan, Streams, Subjects, TaskOutcome, Timer } from '@orchestra/contracts';

const SECOND_NS = 1_000_000_000;
/** How long a delivered input may stay unacknowledged before it is redelivered (a crash, mostly). */
export const ORCHESTRATOR_ACK_WAIT_MS = 10_000;
const ACK_WAIT_NS = (ORCHESTRATOR_ACK_WAIT_MS / 1000) * SECOND_NS;

export interface OrchestratorTuning {
  /** Outcomes and timers handled at once (inputs of one execution are still taken one by one). */
  concurrency: number;
}

/** The durable consumers the orchestrator's replicas share. */
export function orchestratorBindings(tuning: OrchestratorTuning): Record<string, ConsumerBinding> {
  return {
    [Subjects.executeCommand]: {
      stream: Streams.commands,
      schema: ExecutePlan,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-execute',
        filter_subject: Subjects.executeCommand,
        ack_wait: ACK_WAIT_NS,
        max_deliver: 20,
      },
    },
    [Subjects.cancelCommand]: {
      stream: Streams.commands,
      schema: CancelExecution,
      consumer: {
        durable_name: 'orchestrator-cancel',
        filter_subject: Subjects.cancelCommand,
        ack_wait: ACK_WAIT_NS,
        max_deliver: 20,
      },
    },
    [Subjects.allOutcomes]: {
      stream: Streams.outcomes,
      schema: TaskOutcome,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-outcomes',
        filter_subject: Subjects.allOutcomes,
        ack_wait: ACK_WAIT_NS,
        max_deliver: 20,
        max_ack_pending: 20_000,
      },
    },
    [Subjects.allTimers]: {
      stream: Streams.timers,
      schema: Timer,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-timers',
        filter_subject: Subjects.allTimers,
        ack_wait: ACK_WAIT_NS,
        // Timers that are not due yet are nak'ed with a delay, which counts as a delivery.
        max_deliver: -1,
        max_ack_pending: 100_000,
      },
    },
  };
}
