import { DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { type ConsumerBinding, type MessageVerifier, onSubjectOf } from '@orchestra/bus';
import {
  CancelExecution,
  EventRecord,
  ExecutePlan,
  LIMITS,
  malformedOutcomeAsFailure,
  RepairExecution,
  RerunExecution,
  Streams,
  Subjects,
  TaskOutcome,
  Timer,
} from '@orchestra/contracts';

/**
 * How long a delivered input may stay unacknowledged before the server redelivers it: after a
 * crash, how long the messages the dead process held (those it was handling, and as many again
 * waiting for a slot) wait before a replica or the restarted process gets them. Inputs waiting or
 * being handled are kept alive meanwhile (working() at a third of it), so a short one costs
 * heartbeats, and a process whose event loop stalls for two thirds of it looks dead.
 * ORCHESTRATOR_ACK_WAIT_MS overrides it (see orchestratorSettings).
 */
export const ORCHESTRATOR_ACK_WAIT_MS = 3_000;

export interface OrchestratorTuning {
  /** Outcomes and timers handled at once (inputs of one execution are still taken one by one). */
  concurrency: number;
  /** The consumers' ack wait. Default ORCHESTRATOR_ACK_WAIT_MS. */
  ackWaitMs?: number;
  /** The orchestrator's clock: timers further ahead than any it sets are refused. */
  now?: () => number;
}

/**
 * The furthest a timer of ours can be due: a deadline (at most LIMITS.timeoutMs after dispatch)
 * or a retry (at most LIMITS.backoffMs ahead), plus an hour of clock skew. A timer beyond it is
 * not ours, and would otherwise hold a slot of the timers consumer until it is due.
 */
export const TIMER_HORIZON_MS = LIMITS.timeoutMs + LIMITS.backoffMs + 60 * 60 * 1000;

function timerVerifier(now: () => number): MessageVerifier<Timer> {
  const subject = onSubjectOf<Timer>('execution_id', (timer) => Subjects.timers(timer.execution_id));
  return (timer, on) => {
    const misplaced = subject(timer, on);
    if (misplaced) return misplaced;
    if (timer.due_at > now() + TIMER_HORIZON_MS) {
      return {
        path: 'due_at',
        message: `due_at ${timer.due_at} is more than ${TIMER_HORIZON_MS / 3_600_000} h ahead: no timer of Orchestra is due that late`,
      };
    }
    return undefined;
  };
}

/** Outcomes handled at once per unit of `concurrency`. */
const OUTCOMES_PER_SLOT = 8;

/** The outbox handler's pattern: every stored event, through the `orchestrator-effects` consumer. */
export const EFFECTS_PATTERN = Subjects.allEvents;
/** Redeliveries allowed for an input that fails for a reason other than its content (an outage). */
const MAX_DELIVER = 200;

/**
 * The stream and durable name of every consumer the orchestrator's replicas share, without the
 * rest of their settings: what `orchestra doctor` checks exists.
 */
export function orchestratorDurables(): readonly { stream: string; durable: string }[] {
  return Object.values(orchestratorBindings({ concurrency: 1 })).map((binding) => ({
    stream: binding.stream,
    durable: binding.consumer.durable_name,
  }));
}

/** The durable consumers the orchestrator's replicas share. */
export function orchestratorBindings(tuning: OrchestratorTuning): Record<string, ConsumerBinding> {
  const ackWait = nanos(tuning.ackWaitMs ?? ORCHESTRATOR_ACK_WAIT_MS);
  return {
    [Subjects.executeCommand]: {
      stream: Streams.commands,
      schema: ExecutePlan,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-execute',
        filter_subject: Subjects.executeCommand,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
      },
    },
    [Subjects.rerunCommand]: {
      stream: Streams.commands,
      schema: RerunExecution,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-rerun',
        filter_subject: Subjects.rerunCommand,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
      },
    },
    [Subjects.repairCommand]: {
      stream: Streams.commands,
      schema: RepairExecution,
      consumer: {
        durable_name: 'orchestrator-repair',
        filter_subject: Subjects.repairCommand,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
      },
    },
    [Subjects.cancelCommand]: {
      stream: Streams.commands,
      schema: CancelExecution,
      consumer: {
        durable_name: 'orchestrator-cancel',
        filter_subject: Subjects.cancelCommand,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
      },
    },
    [Subjects.allOutcomes]: {
      stream: Streams.outcomes,
      schema: TaskOutcome,
      verify: onSubjectOf<TaskOutcome>('execution_id', (outcome) => Subjects.outcomes(outcome.execution_id)),
      // A malformed answer that names its attempt fails that attempt (and is dead-lettered too).
      salvage: malformedOutcomeAsFailure,
      // Outcomes of one execution that wait together are decided together (one record): taking
      // many at once makes a wide phase's batches large. A waiting outcome costs no CPU.
      concurrency: tuning.concurrency * OUTCOMES_PER_SLOT,
      consumer: {
        durable_name: 'orchestrator-outcomes',
        filter_subject: Subjects.allOutcomes,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
        max_ack_pending: 20_000,
      },
    },
    [Subjects.allTimers]: {
      stream: Streams.timers,
      schema: Timer,
      verify: timerVerifier(tuning.now ?? Date.now),
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-timers',
        filter_subject: Subjects.allTimers,
        ack_wait: ackWait,
        // Timers that are not due yet are nak'ed with a delay, which counts as a delivery.
        max_deliver: -1,
        // Timers wait (nak'ed) until due and hold a pending slot meanwhile: no cap.
        max_ack_pending: -1,
      },
    },
    [EFFECTS_PATTERN]: {
      stream: Streams.events,
      // Headers only: the replica that appended a record has published its effects already and
      // needs no payload to know it; the record is read (and checked) only on a miss.
      schema: EventRecord,
      concurrency: tuning.concurrency,
      consumer: {
        durable_name: 'orchestrator-effects',
        filter_subject: Subjects.allEvents,
        headers_only: true,
        // Events stored before the first orchestrator started have no effects owed.
        deliver_policy: DeliverPolicy.New,
        ack_wait: ackWait,
        max_deliver: MAX_DELIVER,
        max_ack_pending: 20_000,
      },
    },
  };
}
