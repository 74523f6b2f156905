import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { errors } from '@nats-io/transport-node';
import type { DeadLetterSource } from '@orchestra/contracts';
import type { z } from 'zod';
import { deadLetterSourceOf } from './dead-letters.js';
import {
  defaultNakDelay,
  handleMessage,
  keepAliveInterval,
  type MessageDeps,
  type MessageHandler,
  type MessageSalvager,
  type MessageVerifier,
} from './handle-message.js';
import { type BusLogger, errorFields, noopLogger } from './logger.js';
import { within } from './within.js';

export type {
  HandlerResult,
  MessageContext,
  MessageHandler,
  MessageSalvager,
  MessageVerifier,
} from './handle-message.js';

export interface RunConsumerOptions<T> {
  js: JetStreamClient;
  stream: string;
  /** An existing durable pull consumer (see ensureConsumer). */
  durable: string;
  schema: z.ZodType<T>;
  handler: MessageHandler<T>;
  /** Checks a valid payload against its subject (or anything else a schema cannot see). */
  verify?: MessageVerifier<T>;
  /** Turns a payload the schema refused into a valid input when it can (see MessageSalvager). */
  salvage?: MessageSalvager<T>;
  /** The consumer is `headers_only`: no payload to parse, the handler gets `null`. */
  headersOnly?: boolean;
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
  /** Stops pulling, gives back the messages not started, waits for the running handlers. */
  stop(): Promise<void>;
  /** Resolves when the loop has ended (after stop(), or when the connection is closed). */
  readonly done: Promise<void>;
}

/** How long one pull request waits at the server for messages before it is renewed. */
const PULL_EXPIRES_MS = 30_000;
/** Messages fetched ahead of the free slots, at least (a concurrency of 1 still gets a batch). */
const MIN_PREFETCH = 8;
const EMPTY_PULL_PAUSE_MS = 100;
/** How long stop() waits for the running handlers; the rest come back after their ack wait. */
const STOP_INFLIGHT_WAIT_MS = 4_000;

/**
 * Pull-consumes a durable consumer until stopped. It asks the server only for as many messages
 * as it has room for (the running handlers, plus as many again waiting for a slot), so that it
 * sees every message delivered to it: the ones waiting are kept alive with working() at a third
 * of the ack wait, and none is redelivered elsewhere (and run twice) while this process holds it.
 * If the process dies, they come back after the ack wait. The pulls are re-created whenever they
 * fail (a nats-server restart, a missing consumer), with a capped backoff.
 */
export function runConsumer<T>(options: RunConsumerOptions<T>): RunningConsumer {
  const logger = options.logger ?? noopLogger;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const prefetch = Math.max(concurrency, MIN_PREFETCH);
  const capacity = concurrency + prefetch;
  const log = { stream: options.stream, durable: options.durable };
  const inflight = new Set<Promise<void>>();
  /** Delivered to this process and not started yet, oldest first. */
  const waiting: JsMsg[] = [];
  /** Being handled now (not settled yet). */
  const running = new Set<JsMsg>();
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  let roomFreed: (() => void) | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Failed attempts to pull in a row: the backoff before the next one. */
  let failures = 0;

  const deps: MessageDeps<T> = {
    js: options.js,
    schema: options.schema,
    handler: options.handler,
    verify: options.verify,
    salvage: options.salvage,
    headersOnly: options.headersOnly,
    maxDeliver: options.maxDeliver ?? Number.POSITIVE_INFINITY,
    deadLetters:
      options.deadLetters === false ? undefined : (options.deadLetters ?? deadLetterSourceOf(options.stream)),
    nakDelay: options.nakDelay ?? defaultNakDelay,
    now: options.now ?? Date.now,
    logger,
    keepAliveMs: keepAliveInterval(undefined),
    stopping: () => stopping,
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

  const settle = (what: string, msg: JsMsg, action: () => void) => {
    try {
      action();
    } catch (err) {
      // The connection is closed: the server redelivers after the ack wait.
      logger.warn({ ...log, seq: msg.seq, ...errorFields(err) }, `could not ${what} the message`);
    }
  };

  /** Received but not started: back to the server for immediate redelivery (to another replica). */
  const giveBack = () => {
    for (const msg of waiting.splice(0)) settle('give back', msg, () => msg.nak());
  };

  /**
   * Every message this process holds — waiting for a slot or being handled — is kept alive by
   * one interval per consumer (not one timer per message): it is redelivered only if this
   * process dies or gives it back.
   */
  const keepHeldAlive = () => {
    for (const msg of waiting) settle('keep alive', msg, () => msg.working());
    for (const msg of running) settle('keep alive', msg, () => msg.working());
  };

  /** Starts waiting messages while there are free slots. */
  const pump = () => {
    if (stopping) giveBack();
    while (inflight.size < concurrency && waiting.length > 0) {
      const msg = waiting.shift() as JsMsg;
      running.add(msg);
      const task = handleMessage(msg, deps)
        .catch((err: unknown) => {
          // Only ack/nak/term can throw here (connection closed): the server redelivers after ack_wait.
          logger.error({ ...log, seq: msg.seq, ...errorFields(err) }, 'could not settle the message');
        })
        .finally(() => {
          running.delete(msg);
          inflight.delete(task);
          pump();
        });
      inflight.add(task);
    }
    roomFreed?.();
  };

  /** Resolves once `wanted` more messages fit (or when stopping). */
  const room = (wanted: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!stopping && capacity - inflight.size - waiting.length < wanted) return;
        roomFreed = undefined;
        resolve();
      };
      roomFreed = check;
      check();
    });

  const consumeOnce = async () => {
    const consumer = await options.js.consumers.get(options.stream, options.durable);
    const { config } = await consumer.info(true);
    if (options.maxDeliver === undefined) {
      const max = config.max_deliver;
      deps.maxDeliver = max !== undefined && max > 0 ? max : Number.POSITIVE_INFINITY;
    }
    deps.keepAliveMs = keepAliveInterval(config.ack_wait);
    clearInterval(keepAlive);
    keepAlive = setInterval(keepHeldAlive, deps.keepAliveMs);
    keepAlive.unref();
    logger.debug(log, 'consuming');
    while (!stopping) {
      // Pull in batches of at least half the prefetch, so that busy slots do not mean one
      // request per message; the messages already held keep the slots busy meanwhile.
      await room(Math.ceil(prefetch / 2));
      if (stopping) return;
      const wanted = capacity - inflight.size - waiting.length;
      const batch = await consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
      messages = batch;
      if (stopping) return;
      const started = Date.now();
      let received = 0;
      for await (const msg of batch) {
        received++;
        failures = 0;
        if (stopping) {
          settle('give back', msg, () => msg.nak());
          continue;
        }
        waiting.push(msg);
        pump();
      }
      // A pull that the server ended at once with nothing (not its expiry): do not spin.
      if (received === 0 && Date.now() - started < PULL_EXPIRES_MS / 2) await pause(EMPTY_PULL_PAUSE_MS);
    }
  };

  const loop = async () => {
    while (!stopping) {
      try {
        await consumeOnce();
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
    stopping = true;
    giveBack();
    // Bounded: a handler stuck on an unreachable server must not hold the process (README, "Stopping").
    await within(Promise.allSettled([...inflight]), STOP_INFLIGHT_WAIT_MS);
    clearInterval(keepAlive);
  };

  const done = loop();
  return {
    done,
    async stop() {
      stopping = true;
      messages?.stop();
      giveBack();
      wake?.();
      roomFreed?.();
      // The loop may be inside a request to an unreachable server (up to its timeout).
      await within(done, STOP_INFLIGHT_WAIT_MS);
    },
  };
}
