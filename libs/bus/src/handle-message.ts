import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import {
  type DeadLetterSource,
  depthExceeding,
  formatPath,
  type Issue,
  LIMITS,
  Streams,
  ValidationError,
} from '@orchestra/contracts';
import { orchestraMetrics } from '@orchestra/observability';
import type { z } from 'zod';
import { claimReference, releaseClaim, resolveClaim } from './claim.js';
import { decodeText } from './codec.js';
import { deadLetterRecord, publishDeadLetter } from './dead-letters.js';
import { type BusLogger, errorFields } from './logger.js';
import { isUnavailable } from './publish.js';

/** What a handler tells the consumer to do with the message. */
export type HandlerResult =
  | { ack: true }
  /** Redeliver after this many milliseconds. */
  | { nak: number }
  /** Never redeliver: dead-lettered with this reason, then terminated (2.9's term takes no reason). */
  | { term: string };

export interface MessageContext {
  stream: string;
  subject: string;
  /** Stream sequence. */
  seq: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  headers: MsgHdrs | undefined;
  /** Resets the ack wait timer: call it from long handlers. */
  working(): void;
  /** How often a long handler should call working(): a third of the consumer's ack wait. */
  keepAliveMs: number;
}

export type MessageHandler<T> = (value: T, ctx: MessageContext) => Promise<HandlerResult> | HandlerResult;

/**
 * What a schema cannot see: whether a valid payload belongs on the subject it came on (an
 * outcome of execution A on `orchestra.outcomes.B`), or fits the clock. An issue dead-letters it.
 */
export type MessageVerifier<T> = (value: T, subject: string) => Issue | undefined;

/**
 * Makes a valid input of a payload the schema refused, when one can still be made: a malformed
 * outcome that names its attempt becomes that attempt's failure, so the run goes on at once
 * instead of waiting for the deadline. The payload is dead-lettered all the same.
 */
export type MessageSalvager<T> = (json: unknown, issues: readonly Issue[], now: number) => T | undefined;

export interface MessageDeps<T> {
  js: JetStreamClient;
  schema: z.ZodType<T>;
  handler: MessageHandler<T>;
  verify?: MessageVerifier<T> | undefined;
  salvage?: MessageSalvager<T> | undefined;
  /** The consumer delivers headers only: the handler gets `null` and reads the payload if it must. */
  headersOnly?: boolean | undefined;
  /** Deliveries allowed per message; on the last one a failure is dead-lettered. */
  maxDeliver: number;
  deadLetters: DeadLetterSource | undefined;
  nakDelay: (deliveryCount: number) => number;
  now: () => number;
  logger: BusLogger;
  /** See MessageContext.keepAliveMs. Default: from the server's default ack wait (30 s). */
  keepAliveMs?: number;
  /** True once the consumer stops: a message is no longer handled again while the bus cannot answer. */
  stopping?: () => boolean;
}

/** The server's default ack wait, for a consumer whose config does not say. */
const DEFAULT_ACK_WAIT_NS = 30_000_000_000;

/**
 * How often to call working() on a message held longer than its ack wait: a third of it, so that
 * a late timer or a busy event loop still has two thirds of the ack wait to spare.
 */
export function keepAliveInterval(ackWaitNs: number | undefined): number {
  return Math.max(50, Math.floor((ackWaitNs ?? DEFAULT_ACK_WAIT_NS) / 1_000_000 / 3));
}

/** Exponential: 500 ms, 1 s, 2 s, ... capped at 30 s. */
export function defaultNakDelay(deliveryCount: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Redelivery delay after a failure because the bus could not answer (a leader election, a server
 * restart): short and flat, so the message is tried again within that long of the new leader
 * (docs/reliability.md), instead of the doubling delays meant for a failing handler.
 */
export const UNAVAILABLE_NAK_MS = 250;

/** How long one delivery is held and handled again while the bus cannot answer (see handleWhileUnavailable). */
export const UNAVAILABLE_HOLD_MS = 30_000;

/** Work queues: a message acked there is never read again, so its claimed copy can go. */
const WORK_QUEUES: ReadonlySet<string> = new Set([
  Streams.commands,
  Streams.tasks,
  Streams.outcomes,
  Streams.timers,
]);

/** Parse, validate, run the handler, then ack, nak or dead-letter and term. Never throws. */
export async function handleMessage<T>(msg: JsMsg, deps: MessageDeps<T>): Promise<void> {
  const deliveryCount = msg.info.deliveryCount;
  const log = { stream: msg.info.stream, subject: msg.subject, seq: msg.seq, deliveryCount };
  let parsed: Parsed<T>;
  let data = msg.data;
  if (deps.headersOnly) parsed = { ok: true, value: null as T };
  else {
    try {
      data = await resolveClaim(deps.js, msg.data);
    } catch (err) {
      if (err instanceof ValidationError) await reject(msg, deps, err.message, err.issues);
      else {
        deps.logger.warn(
          { ...log, ...errorFields(err) },
          'stored value not readable, message will be redelivered',
        );
        msg.nak(UNAVAILABLE_NAK_MS);
      }
      return;
    }
    parsed = parse(data, deps.schema);
  }
  let value: T;
  /** Set when the payload was refused but salvaged: handled, then dead-lettered instead of acked. */
  let refused: { reason: string; issues: Issue[] } | undefined;
  if (parsed.ok) value = parsed.value;
  else {
    const salvaged = salvage(deps, parsed);
    if (salvaged === undefined) {
      await reject(msg, deps, parsed.reason, parsed.issues);
      return;
    }
    value = salvaged;
    refused = parsed;
  }
  const misfit = verify(deps, value, msg.subject);
  if (misfit) {
    await reject(msg, deps, misfit.message, [misfit, ...(refused?.issues ?? [])]);
    return;
  }
  let result: HandlerResult;
  try {
    result = await handleWhileUnavailable(msg, deps, value);
  } catch (err) {
    if (err instanceof ValidationError) {
      await reject(msg, deps, err.message, err.issues);
    } else if (deliveryCount >= deps.maxDeliver) {
      const message = err instanceof Error ? err.message : String(err);
      await reject(
        msg,
        deps,
        `handler failed on the last allowed delivery (${deliveryCount}): ${message}`,
        [],
      );
    } else {
      const delay = isUnavailable(err) ? UNAVAILABLE_NAK_MS : deps.nakDelay(deliveryCount);
      deps.logger.warn({ ...log, ...errorFields(err), delay }, 'handler failed, message will be redelivered');
      msg.nak(delay);
    }
    return;
  }
  if ('ack' in result && refused) {
    await reject(
      msg,
      deps,
      `${refused.reason} (handled as a failure of the attempt it names)`,
      refused.issues,
    );
  } else if ('ack' in result) {
    msg.ack();
    deps.logger.debug(log, 'message acked');
    const claimed = data === msg.data ? undefined : claimReference(msg.data)?.name;
    if (claimed !== undefined && WORK_QUEUES.has(msg.info.stream)) void releaseClaim(deps.js, claimed);
  } else if ('nak' in result) {
    if (deliveryCount >= deps.maxDeliver) {
      await reject(
        msg,
        deps,
        `handler asked for a redelivery on the last allowed delivery (${deliveryCount})`,
        [],
      );
      return;
    }
    msg.nak(result.nak);
    deps.logger.debug({ ...log, delay: result.nak }, 'message nak-ed');
  } else {
    // A message its handler refuses is recorded like any other rejected one.
    await reject(msg, deps, result.term, []);
  }
}

/**
 * Runs the handler; while it fails because the bus cannot answer (a leader election, a server
 * restart), runs it again every UNAVAILABLE_NAK_MS on this same delivery (the consumer keeps the
 * message alive), for up to UNAVAILABLE_HOLD_MS. A nak would spend a delivery every 250 ms, and an election
 * (5–6 s on nats-server 2.9, docs/reliability.md) would use up `max_deliver` and drop the message
 * while nothing was wrong with it. The handler is safe to run again: a redelivery does the same.
 */
async function handleWhileUnavailable<T>(msg: JsMsg, deps: MessageDeps<T>, value: T): Promise<HandlerResult> {
  const ctx = context(msg, deps.keepAliveMs ?? keepAliveInterval(undefined));
  const giveUpAt = deps.now() + UNAVAILABLE_HOLD_MS;
  for (;;) {
    try {
      return await deps.handler(value, ctx);
    } catch (err) {
      if (!isUnavailable(err) || deps.now() >= giveUpAt || deps.stopping?.()) throw err;
      deps.logger.debug(
        { stream: msg.info.stream, seq: msg.seq, ...errorFields(err) },
        'the bus cannot answer yet, handling again',
      );
      // The consumer keeps the message alive meanwhile (runConsumer's one keep-alive interval).
      await sleep(UNAVAILABLE_NAK_MS);
    }
  }
}

type Parsed<T> =
  | { ok: true; value: T }
  /** `json` is set when the payload was JSON but did not match the schema. */
  | { ok: false; reason: string; issues: Issue[]; json?: unknown };

function salvage<T>(deps: MessageDeps<T>, parsed: Extract<Parsed<T>, { ok: false }>): T | undefined {
  if (!deps.salvage || !('json' in parsed)) return undefined;
  try {
    return deps.salvage(parsed.json, parsed.issues, deps.now());
  } catch {
    return undefined;
  }
}

function parse<T>(data: Uint8Array, schema: z.ZodType<T>): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(decodeText(data));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'payload is not JSON', issues: [{ path: '(root)', message }] };
  }
  // Recursive validators overflow the stack on hostile nesting: bound it first, iteratively.
  const deep = depthExceeding(json, LIMITS.messageDepth);
  if (deep) {
    const message = `nests deeper than ${LIMITS.messageDepth} levels (at ${deep})`;
    return { ok: false, reason: 'payload nests too deeply', issues: [{ path: '(root)', message }] };
  }
  let result: ReturnType<typeof schema.safeParse>;
  try {
    result = schema.safeParse(json);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'payload could not be validated', issues: [{ path: '(root)', message }] };
  }
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  return { ok: false, reason: 'payload does not match the schema', issues, json };
}

function verify<T>(deps: MessageDeps<T>, value: T, subject: string): Issue | undefined {
  try {
    return deps.verify?.(value, subject);
  } catch (err) {
    return { path: '(subject)', message: err instanceof Error ? err.message : String(err) };
  }
}

function context(msg: JsMsg, keepAliveMs: number): MessageContext {
  return {
    stream: msg.info.stream,
    subject: msg.subject,
    seq: msg.seq,
    deliveryCount: msg.info.deliveryCount,
    redelivered: msg.redelivered,
    headers: msg.headers,
    working: () => msg.working(),
    keepAliveMs,
  };
}

/**
 * Dead-letters then terms. If the dead letter cannot be stored the message is nak-ed instead:
 * it is not dropped before its record is safe.
 */
async function reject<T>(msg: JsMsg, deps: MessageDeps<T>, reason: string, issues: Issue[]): Promise<void> {
  const log = { stream: msg.info.stream, subject: msg.subject, seq: msg.seq, reason, issues };
  if (deps.deadLetters !== undefined) {
    try {
      const record = deadLetterRecord(deps.deadLetters, msg, reason, issues, deps.now());
      const ack = await publishDeadLetter(deps.js, record);
      if (!ack.duplicate) orchestraMetrics().deadLetters.inc({ stream: msg.info.stream });
    } catch (err) {
      const delay = isUnavailable(err) ? UNAVAILABLE_NAK_MS : deps.nakDelay(msg.info.deliveryCount);
      deps.logger.error({ ...log, ...errorFields(err), delay }, 'dead letter not stored, message nak-ed');
      msg.nak(delay);
      return;
    }
  }
  msg.term();
  deps.logger.warn(log, deps.deadLetters === undefined ? 'message terminated' : 'message dead-lettered');
}
