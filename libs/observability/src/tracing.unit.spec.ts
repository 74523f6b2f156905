import { headers } from '@nats-io/transport-node';
import {
  injectTraceContext,
  payloadAttributes,
  traceLogFields,
  tracingSettings,
  withMessageSpan,
} from './tracing.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context in NATS headers, without an SDK', () => {
  it('hands an incoming traceparent on to every publish made while the message is handled', async () => {
    const incoming = headers();
    incoming.set('traceparent', TRACEPARENT);
    const outgoing = await withMessageSpan('process test', { headers: incoming }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // context survives an await
      return injectTraceContext(undefined);
    });
    expect(outgoing?.get('traceparent')).toBe(TRACEPARENT);
  });

  it('puts the trace ids on log lines written while a message is handled', async () => {
    const incoming = headers();
    incoming.set('traceparent', TRACEPARENT);
    const fields = await withMessageSpan('process test', { headers: incoming }, async () => traceLogFields());
    expect(fields).toEqual({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    expect(traceLogFields()).toEqual({});
  });

  it('adds nothing when there is no trace, and never overrides a traceparent set by the caller', async () => {
    expect(
      await withMessageSpan('process test', { headers: undefined }, async () =>
        injectTraceContext(undefined),
      ),
    ).toBe(undefined);
    const incoming = headers();
    incoming.set('traceparent', TRACEPARENT);
    const own = headers();
    own.set('traceparent', '00-11111111111111111111111111111111-2222222222222222-01');
    const kept = await withMessageSpan('process test', { headers: incoming }, async () =>
      injectTraceContext(own),
    );
    expect(kept?.get('traceparent')).toBe('00-11111111111111111111111111111111-2222222222222222-01');
  });

  it('ends the span and rethrows when the handler fails', async () => {
    await expect(
      withMessageSpan('process test', { headers: undefined }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });

  it('describes a payload by the ids it carries', () => {
    expect(
      payloadAttributes({
        type: 'TaskOutcome',
        execution_id: 'e1',
        phase_id: 'p',
        task_id: 't',
        attempt_number: 2,
      }),
    ).toEqual({
      'orchestra.message_type': 'TaskOutcome',
      'orchestra.execution_id': 'e1',
      'orchestra.phase_id': 'p',
      'orchestra.task_id': 't',
      'orchestra.attempt': 2,
    });
    expect(payloadAttributes('text')).toEqual({});
  });
});

describe('tracingSettings (the standard OTEL_* variables)', () => {
  it('is off without an endpoint, or when disabled', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
  });

  it('posts to <endpoint>/v1/traces over protobuf by default, or to the traces endpoint as given', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toEqual({
      url: 'http://c:4318/v1/traces',
      protocol: 'http/protobuf',
      scheduledDelayMillis: 5000,
    });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    ).toEqual({ url: 'http://t:4318/custom', protocol: 'http/json', scheduledDelayMillis: 200 });
  });

  it('refuses a protocol it cannot speak', () => {
    expect(() =>
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toThrow('OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http/protobuf, http/json, got "grpc"');
  });
});
