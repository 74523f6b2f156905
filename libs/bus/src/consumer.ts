import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import type { DeadLetterSource } from '@orchestra/contracts';
import type { z } from 'zod';
import { deadLetterSourceOf } from './dead-letters.js';
import {
  defaultNakDelay,
  handleMessage,
  type MessageDeps,
  type MessageHandler,
  type MessageVerifier,
} from './handle-message.js';
import { type BusLogger, errorFields, noopLogger } from './logger.js';

export type { HandlerResult, MessageContext, MessageHandler, MessageVerifier } from './handle-message.js';

export interface RunConsumerOptions<T> {
  js: JetStreamClient;
  stream: string;
  /** An existing durable pull consumer (see ensureConsumer). */
  durable: string;
  schema: z.ZodType<T>;
  handler: MessageHandler<T>;
  /** Checks a valid payload against its subject (or anything else a schema cannot see). */
  verify?: MessageVerifier<T>;
  /** Deliveries allowed per message. Default: the consumer's max_deliver, unlimited when -1. */
  maxDeliver?: number;
  /** Messages processed at once. Default 1. */
  concurrency?: number;
  /** Where rejected messages go. Default: derived from the stream; false to only term them. */
  deadLetters?: DeadLetterSource | false;
  /** Redelivery delay after a handler error, by delivery count. Default 500 ms doubling to 30 s. */
  nakDelay?: (deliveryCount: number) => number;
  logger?: BusLogger;
  /** Clock of the dead-letter records. */
  now?: () => number;
}

export interface RunningConsumer {
  /** Stops pulling, gives back buffered messages, waits for the running handlers. */
  stop(): Promise<void>;
  /** Resolves when the loop has ended (after stop(), or when the connection is closed). */
  readonly done: Promise<void>;
}

/**
 * Pull-consumes a durable consumer until stopped. The consume iterator is re-created whenever it
 * ends or fails (a nats-server restart, a missing consumer), with a capped backoff.
 */
export function runConsumer<T>(options: RunConsumerOptions<T>): RunningConsumer {
  const logger = options.logger ?? noopLogger;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const log = { stream: options.stream, durable: options.durable };
  const inflight = new Set<Promise<void>>();
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;

  const deps: MessageDeps<T> = {
    js: options.js,
    schema: options.schema,
    handler: options.handler,
    verify: options.verify,
    maxDeliver: options.maxDeliver ?? Number.POSITIVE_INFINITY,
    deadLetters:
      options.deadLetters === false ? undefined : (options.deadLetters ?? deadLetterSourceOf(options.stream)),
    nakDelay: options.nakDelay ?? defaultNakDelay,
    now: options.now ?? Date.now,
    logger,
  };
  if (options.deadLetters === undefined && deps.deadLetters === undefined) {
    logger.warn(log, 'no dead-letter subject for this stream: rejected messages are only terminated');
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** A third of the consumer's ack wait, read when consuming starts. */
  let waitingHeartbeatMs = 10_000;
  const dispatch = async (msg: JsMsg) => {
    if (inflight.size >= concurrency) {
      // A message waiting for a free slot is already delivered: keep it from being redelivered
      // to another worker (and run twice) while the slots are busy with long handlers.
      const keepAlive = setInterval(() => msg.working(), waitingHeartbeatMs);
      try {
        while (inflight.size >= concurrency) await Promise.race(inflight);
      } finally {
        clearInterval(keepAlive);
      }
    }
    if (stopping) {
      msg.nak(); // received but not started: give it back for immediate redelivery
      return;
    }
    const task = handleMessage(msg, deps)
      .catch((err: unknown) => {
        // Only ack/nak/term can throw here (connection closed): the server redelivers after ack_wait.
        logger.error({ ...log, seq: msg.seq, ...errorFields(err) }, 'could not settle the message');
      })
      .finally(() => inflight.delete(task));
    inflight.add(task);
  };

  const consumeOnce = async () => {
    const consumer = await options.js.consumers.get(options.stream, options.durable);
    const { config } = await consumer.info(true);
    if (options.maxDeliver === undefined) {
      const max = config.max_deliver;
      deps.maxDeliver = max !== undefined && max > 0 ? max : Number.POSITIVE_INFINITY;
    }
    waitingHeartbeatMs = Math.max(50, Math.floor((config.ack_wait ?? 30_000_000_000) / 1_000_000 / 3));
    const current = await consumer.consume({ max_messages: concurrency });
    messages = current;
    if (stopping) return;
    void watchStatus(current, logger, log);
    logger.debug(log, 'consuming');
    for await (const msg of current) await dispatch(msg);
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        await consumeOnce();
        failures = 0;
        if (!stopping) logger.warn(log, 'consume ended, re-creating it');
      } catch (err) {
        if (stopping) break;
        if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) {
          logger.error({ ...log, ...errorFields(err) }, 'connection closed, consumer stops');
          break;
        }
        failures++;
        logger.warn({ ...log, ...errorFields(err), failures }, 'consume failed, retrying');
      } finally {
        messages?.stop();
        messages = undefined;
      }
      if (!stopping) await pause(Math.min(5000, 100 * 2 ** Math.min(failures, 6)));
    }
    await Promise.allSettled([...inflight]);
  };

  const done = loop();
  return {
    done,
    async stop() {
      stopping = true;
      messages?.stop();
      wake?.();
      await done;
    },
  };
}

async function watchStatus(messages: ConsumerMessages, logger: BusLogger, log: object): Promise<void> {
  try {
    for await (const s of messages.status()) {
      switch (s.type) {
        case 'heartbeats_missed':
        case 'consumer_not_found':
        case 'stream_not_found':
        case 'consumer_deleted':
        case 'no_responders':
        case 'exceeded_limits':
          logger.warn({ ...log, status: s }, `consumer status: ${s.type}`);
          break;
        default:
          break;
      }
    }
  } catch {
    // the status iterator ends with the messages iterator
  }
}
