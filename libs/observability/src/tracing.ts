import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import {
  type Attributes,
  type Context,
  context,
  DiagLogLevel,
  diag,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { type Env, readEnvironment, envVariable as variable } from '@orchestra/contracts';
import type { Logger } from './logger.js';

export { SpanKind } from '@opentelemetry/api';

/**
 * Trace context travels in NATS headers (W3C `traceparent`/`tracestate`), always: it costs a
 * header. Spans are only recorded and exported once startTracing found an OTLP endpoint; without
 * one the API's no-op tracer hands an incoming context on unchanged.
 */
const propagator = new W3CTraceContextPropagator();
const getter: TextMapGetter<MsgHdrs> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => carrier.get(key) || undefined,
};
const setter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };

let contextManagerRegistered = false;
/** Whether startTracing installed an exporting tracer provider in this process. */
let recording = false;
/** The span handed to a message's handler when there is nothing to record or pass on. */
const NOT_RECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Context follows async calls (AsyncLocalStorage), unless the application registered its own manager. */
function ensureContextManager(): void {
  if (contextManagerRegistered) return;
  contextManagerRegistered = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

/** The trace context carried by a message's headers (the root context when there is none). */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return headers ? propagator.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}

/**
 * Adds the active trace context to a message's headers (created when needed), unless they carry
 * one already. Without an active span the headers are returned as they are.
 */
export function injectTraceContext(headers: MsgHdrs | undefined): MsgHdrs | undefined {
  const active = context.active();
  const spanContext = trace.getSpanContext(active);
  if (!spanContext || !isSpanContextValid(spanContext)) return headers;
  const carrier = headers ?? natsHeaders();
  if (!carrier.has('traceparent')) propagator.inject(active, carrier, setter);
  return carrier;
}

/** `trace_id` and `span_id` of the active span, for log lines (nothing when there is none). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

export interface MessageSpanOptions {
  /** The message's headers: the span is a child of the context they carry. */
  headers: MsgHdrs | undefined;
  kind?: SpanKind;
  /** Built only when a span is recorded (a function, so nothing is built while tracing is off). */
  attributes?: Attributes | (() => Attributes);
}

/**
 * Runs `fn` in a span that continues the trace of a received message; every publish made inside
 * (see injectTraceContext) carries the span's context on.
 */
export async function withMessageSpan<T>(
  name: string,
  options: MessageSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!recording && !options.headers?.has('traceparent')) {
    // Nothing to record and no trace to carry on: no span, no context switch (a few percent of
    // every service's CPU per message otherwise).
    return fn(NOT_RECORDED);
  }
  ensureContextManager();
  const parent = extractTraceContext(options.headers);
  const span = trace.getTracer('@orchestra/observability').startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.CONSUMER,
      attributes:
        (typeof options.attributes === 'function' ? options.attributes() : options.attributes) ?? {},
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/** Span attributes of a message payload: the ids of the execution and task it is about. */
export function payloadAttributes(value: unknown): Attributes {
  if (typeof value !== 'object' || value === null) return {};
  const record = value as Record<string, unknown>;
  const attributes: Attributes = {};
  const copy = (field: string, key = `orchestra.${field}`) => {
    const v = record[field];
    if (typeof v === 'string' || typeof v === 'number') attributes[key] = v;
  };
  copy('type', 'orchestra.message_type');
  copy('execution_id');
  copy('phase_id');
  copy('task_id');
  copy('attempt_number', 'orchestra.attempt');
  copy('plugin');
  return attributes;
}

/** OTLP over HTTP; grpc is not supported. */
const PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/** The standard OTEL_* variables Orchestra reads (README, "Configuration"). */
export const TRACING_ENVIRONMENT = {
  OTEL_EXPORTER_OTLP_ENDPOINT: variable.text('OTLP/HTTP collector (…/v1/traces is added): turns tracing on'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable.text('OTLP/HTTP traces URL, used as is (wins over the above)'),
  OTEL_EXPORTER_OTLP_PROTOCOL: variable.oneOf('OTLP encoding', PROTOCOLS, PROTOCOLS[0]),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: variable.oneOf(
    'OTLP encoding of traces (wins over the above)',
    PROTOCOLS,
  ),
  OTEL_TRACES_EXPORTER: variable.textOr('exporters, comma-separated: tracing is on only with otlp', 'otlp'),
  OTEL_SDK_DISABLED: variable.flag('true keeps tracing off', false),
  OTEL_BSP_SCHEDULE_DELAY: variable.integer(
    'delay between span exports (ms)',
    { min: 0, max: 3_600_000, unit: 'ms' },
    5_000,
  ),
  OTEL_SERVICE_NAME: variable.text(
    "the spans' service.name (default: orchestra; with up --services, orchestra- and the services)",
  ),
  OTEL_RESOURCE_ATTRIBUTES: variable.text('more resource attributes of the spans, key=value,…'),
  OTEL_EXPORTER_OTLP_HEADERS: variable.text('headers of the OTLP requests, key=value,…'),
} as const;

export interface TracingSettings {
  /** Where spans are posted (`.../v1/traces`). */
  url: string;
  protocol: (typeof PROTOCOLS)[number];
  /** The batch span processor's delay between exports, `OTEL_BSP_SCHEDULE_DELAY` (default 5000). */
  scheduledDelayMillis: number;
}

/**
 * The standard variables (TRACING_ENVIRONMENT): an OTLP endpoint turns the exporter on,
 * `OTEL_SDK_DISABLED=true` or an `OTEL_TRACES_EXPORTER` without otlp keeps it off. Undefined:
 * tracing off.
 */
export function tracingSettings(env: Env): TracingSettings | undefined {
  const values = readEnvironment(TRACING_ENVIRONMENT, env);
  if (values.OTEL_SDK_DISABLED) return undefined;
  const exporters = values.OTEL_TRACES_EXPORTER.split(',').map((s) => s.trim());
  if (!exporters.includes('otlp')) return undefined;
  const endpoint = values.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    values.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  return {
    url,
    protocol: values.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? values.OTEL_EXPORTER_OTLP_PROTOCOL ?? PROTOCOLS[0],
    scheduledDelayMillis: values.OTEL_BSP_SCHEDULE_DELAY,
  };
}

export interface Tracing {
  /** Whether spans are exported. */
  enabled: boolean;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Sets up tracing for this process: context propagation always, the SDK with an OTLP/HTTP
 * exporter only when tracingSettings finds an endpoint. `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` override the resource's service name and add attributes.
 */
export function startTracing(options: { serviceName: string; env: Env; logger: Logger }): Tracing {
  ensureContextManager();
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const settings = tracingSettings(options.env);
  if (!settings) return { enabled: false, shutdown: async () => undefined };
  diag.setLogger(
    {
      error: (message, ...args) => options.logger.warn({ args }, `tracing: ${message}`),
      warn: (message, ...args) => options.logger.warn({ args }, `tracing: ${message}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const exporter =
    settings.protocol === 'http/json'
      ? new OtlpJsonExporter({ url: settings.url })
      : new OtlpProtoExporter({ url: settings.url });
  const resource = resourceFromAttributes({ 'service.name': options.serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.scheduledDelayMillis }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  recording = true;
  options.logger.info(
    { url: settings.url, protocol: settings.protocol, service: options.serviceName },
    'tracing: exporting spans over OTLP',
  );
  return {
    enabled: true,
    async shutdown() {
      recording = false;
      await provider.shutdown().catch(() => undefined);
      trace.disable();
    },
  };
}
