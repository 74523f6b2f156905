import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import {
  depthExceeding,
  LIMITS,
  OrchestraError,
  SUBJECT_PREFIX,
  ValidationError,
} from '@orchestra/contracts';
import { payloadAttributes, SpanKind, watchService, withMessageSpan } from '@orchestra/observability';
import { lastValueFrom, type Observable, throwError } from 'rxjs';
import type { z } from 'zod';
import { claimIfLarge } from './claim.js';
import { decode, encode } from './codec.js';
import { type RunningConsumer, runConsumer } from './consumer.js';
import type { HandlerResult, MessageContext, MessageSalvager, MessageVerifier } from './handle-message.js';
import { type BusLogger, errorFields, noopLogger } from './logger.js';
import { type DurableConsumerConfig, ensureConsumer } from './provision.js';

/** How an `@EventPattern(pattern)` handler is fed: a durable pull consumer on a stream. */
export interface ConsumerBinding {
  stream: string;
  consumer: DurableConsumerConfig;
  schema: z.ZodType<unknown>;
  /** Checks a valid payload against its subject; a misfit is dead-lettered. */
  verify?: MessageVerifier<never>;
  /** Makes a valid input of a refused payload when it can (see MessageSalvager). */
  salvage?: MessageSalvager<unknown>;
  concurrency?: number;
}

export interface JetStreamServerOptions {
  connection: NatsConnection;
  /** `@EventPattern` patterns -> consumers. A pattern without a binding fails at start-up. */
  bindings: Record<string, ConsumerBinding>;
  /** Queue group of the `@MessagePattern` (request/reply) subscriptions, shared by replicas. */
  queue: string;
  /** The service, as its readiness check names it. Default: the queue group. */
  name?: string;
  logger?: BusLogger;
}

/** The context a handler receives with `@Ctx()`: the JetStream message's metadata. */
export class JetStreamContext extends BaseRpcContext<[MessageContext]> {
  get message(): MessageContext {
    return this.args[0];
  }
}

/**
 * NestJS transport over NATS JetStream. `@EventPattern` handlers consume durable consumers and
 * return a HandlerResult (ack, nak with delay, term); the transport awaits them itself, because
 * the base class's event path hides failures. `@MessagePattern` handlers answer core-NATS
 * requests (the `orchestra.api.*` endpoints) in a queue group.
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  private readonly consumers: RunningConsumer[] = [];
  private readonly subscriptions: Subscription[] = [];
  private unwatch?: () => void;
  private readonly log: BusLogger;
  readonly js: JetStreamClient;
  private jsm?: JetStreamManager;

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    this.log = options.logger ?? noopLogger;
    this.js = jetstream(options.connection);
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      this.jsm = await jetstreamManager(this.options.connection);
      for (const [pattern, handler] of this.messageHandlers) {
        if (handler.isEventHandler) await this.bindConsumer(pattern);
        else this.bindRequests(pattern);
      }
      // Ready (health) once every consumer is bound; the check then watches them stay so.
      this.unwatch = watchService({
        name: this.options.name ?? this.options.queue,
        connection: this.options.connection,
        consumers: this.boundConsumers(),
      });
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async bindConsumer(pattern: string): Promise<void> {
    const binding = this.options.bindings[pattern];
    if (!binding) throw new Error(`no JetStream consumer is bound to the event pattern ${pattern}`);
    await ensureConsumer(this.jsm as JetStreamManager, binding.stream, binding.consumer);
    const handler = this.messageHandlers.get(pattern);
    if (!handler) return;
    this.consumers.push(
      runConsumer({
        js: this.js,
        stream: binding.stream,
        durable: binding.consumer.durable_name,
        schema: binding.schema,
        ...(binding.verify ? { verify: binding.verify as MessageVerifier<unknown> } : {}),
        ...(binding.salvage ? { salvage: binding.salvage } : {}),
        ...(binding.consumer.headers_only ? { headersOnly: true } : {}),
        concurrency: binding.concurrency ?? 1,
        logger: this.log,
        handler: (value, ctx): Promise<HandlerResult> =>
          withMessageSpan(
            `process ${pattern}`,
            { headers: ctx.headers, attributes: () => messageAttributes(value, ctx, binding) },
            async (span) => {
              const result = await lastValueFrom(
                this.transformToObservable(await handler(value, new JetStreamContext([ctx]))),
                { defaultValue: undefined },
              );
              const settled = (result as HandlerResult | undefined) ?? { ack: true };
              span.setAttribute('orchestra.result', Object.keys(settled)[0] ?? 'ack');
              return settled;
            },
          ),
      }),
    );
  }

  private bindRequests(pattern: string): void {
    const subscription = this.options.connection.subscribe(pattern, {
      queue: this.options.queue,
      callback: (error, msg) => {
        if (error) this.log.warn(errorFields(error), `request subscription ${pattern} failed`);
        else void this.answer(pattern, msg);
      },
    });
    this.subscriptions.push(subscription);
  }

  private async answer(pattern: string, msg: Msg): Promise<void> {
    const handler = this.messageHandlers.get(pattern);
    if (!handler || !msg.reply) return;
    if (!isInboxReply(msg.reply)) {
      this.log.warn(
        { subject: msg.subject, reply: msg.reply },
        'request ignored: its reply subject is not an inbox',
      );
      return;
    }
    const attributes = { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject };
    const options = { headers: msg.headers, kind: SpanKind.SERVER, attributes };
    await withMessageSpan(`request ${pattern}`, options, async () => {
      let reply: unknown;
      try {
        const request = msg.data.length > 0 ? decodeRequest(msg.data) : {};
        reply = await lastValueFrom(this.transformToObservable(await handler(request)), {
          defaultValue: null,
        });
      } catch (error) {
        reply = { error: errorReply(error) };
        if (!(error instanceof OrchestraError))
          this.log.error(errorFields(error), `request on ${pattern} failed`);
      }
      msg.respond(await this.replyBytes(pattern, reply));
    });
  }

  /** The reply as sent: a reference to a stored copy when it is larger than one message. */
  private async replyBytes(pattern: string, reply: unknown): Promise<Uint8Array> {
    try {
      return (await claimIfLarge(this.js, encode(reply), `replies.${pattern}`, `the reply on ${pattern}`))
        .data;
    } catch (error) {
      return encode({ error: errorReply(error) });
    }
  }

  private boundConsumers(): { stream: string; durable: string }[] {
    return [...this.messageHandlers]
      .filter(([, handler]) => handler.isEventHandler)
      .flatMap(([pattern]) => {
        const binding = this.options.bindings[pattern];
        return binding ? [{ stream: binding.stream, durable: binding.consumer.durable_name }] : [];
      });
  }

  async close(): Promise<void> {
    this.unwatch?.();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }

  on(): never {
    throw new Error('JetStreamServer does not emit events; watch the NATS connection status instead');
  }

  unwrap<T>(): T {
    return this.options.connection as T;
  }
}

function messageAttributes(value: unknown, ctx: MessageContext, binding: ConsumerBinding) {
  return {
    'messaging.system': 'nats',
    'messaging.destination.name': ctx.subject,
    'messaging.consumer.group.name': binding.consumer.durable_name,
    'orchestra.stream': ctx.stream,
    'orchestra.stream_seq': ctx.seq,
    'orchestra.delivery_count': ctx.deliveryCount,
    ...payloadAttributes(value),
  };
}

/** A request body, or a ValidationError saying why it cannot be one (never a stack overflow). */
function decodeRequest(data: Uint8Array): unknown {
  let request: unknown;
  try {
    request = decode(data);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ValidationError('the request is not JSON', [{ path: '(root)', message }]);
  }
  const deep = depthExceeding(request, LIMITS.messageDepth);
  if (deep) {
    throw new ValidationError('the request nests too deeply', [
      { path: '(root)', message: `nests deeper than ${LIMITS.messageDepth} levels (at ${deep})` },
    ]);
  }
  return request;
}

/**
 * A reply goes to the requester's inbox, never to one of Orchestra's subjects or to a `$` system
 * subject (JetStream API, KV): a request crafted with such a reply subject would otherwise make
 * this service publish there with its own permissions (a cancel notice, a results entry).
 */
export function isInboxReply(subject: string): boolean {
  return !subject.startsWith(`${SUBJECT_PREFIX}.`) && !subject.startsWith('$');
}

/** The `{ error: { code, message, issues } }` body of a failed request. */
export function errorReply(error: unknown): {
  code: string;
  message: string;
  issues: { path: string; message: string }[];
} {
  if (error instanceof ValidationError)
    return { code: error.code, message: error.message, issues: error.issues };
  if (error instanceof OrchestraError) return { code: error.code, message: error.message, issues: [] };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), issues: [] };
}

/**
 * Nest's default RPC filter turns every error into "Internal server error". This one hands the
 * original error to the transport, which knows what to do with it: a ValidationError is a clear
 * reply (or a dead letter), anything else a nak. Register it with `app.useGlobalFilters`.
 */
@Catch()
export class RethrowRpcErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
