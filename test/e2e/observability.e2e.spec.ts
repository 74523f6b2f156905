import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { publishJson } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { Streams, Subjects } from '@orchestra/contracts';
import { freePort, type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, ServiceProcess } from '../support/cli.js';
import { httpGet, metricValue, OtlpReceiver } from '../support/otlp.js';
import { waitFor } from '../support/wait.js';

/**
 * Operations (issue 5): each `orchestra up` process serves /health/live, /health/ready and
 * /metrics on HEALTH_PORT and exports spans over OTLP; one execution is one trace across the
 * orchestrator's and the dispatcher's processes.
 */
const task = (task_id: string, value: string, input: Record<string, unknown> = {}, extra = {}) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value },
  input_context: input,
  ...extra,
});

/** Three tasks finish, one of them after a retry; the last one runs long enough to be seen running. */
const PLAN = {
  plan_id: 'observability',
  phases: [
    {
      phase_id: 'first',
      tasks: [
        task('echo', 'echo', { n: 1 }),
        task('flaky', 'flaky', { failures: 1 }, { retries: 1, backoff: { initial_ms: 50 } }),
      ],
    },
    { phase_id: 'last', depends_on_phases: ['first'], tasks: [task('slow', 'sleep', { ms: 1500 })] },
  ],
};

describe('health, metrics and traces of orchestra up', () => {
  let server: NatsServerHandle;
  let receiver: OtlpReceiver;
  let client: OrchestraClient;
  const processes: ServiceProcess[] = [];
  const ports = { orchestrator: 0, dispatcher: 0 };
  const url = (which: keyof typeof ports, path: string) => `http://127.0.0.1:${ports[which]}${path}`;
  const metrics = async (which: keyof typeof ports) => (await httpGet(url(which, '/metrics'))).body;
  const readyStatus = async (which: keyof typeof ports) =>
    (await httpGet(url(which, '/health/ready'))).status;

  beforeAll(async () => {
    server = await startNatsServer();
    receiver = await OtlpReceiver.start();
    ports.orchestrator = await freePort();
    ports.dispatcher = await freePort();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    for (const [services, port] of [
      ['orchestrator,results', ports.orchestrator],
      ['dispatcher', ports.dispatcher],
    ] as const) {
      processes.push(
        await ServiceProcess.start(services, server.url, { HEALTH_PORT: String(port), ...otel }),
      );
    }
    client = await OrchestraClient.connect({ servers: [server.url], env: {} });
  });
  afterAll(async () => {
    for (const service of processes.splice(0)) await service.stop();
    await client?.close().catch(() => undefined);
    await receiver?.close();
    await server?.stop();
  });

  it('is live and ready once every consumer is bound', async () => {
    for (const which of ['orchestrator', 'dispatcher'] as const) {
      await waitFor(async () => (await readyStatus(which)) === 200, { what: `${which} ready` });
      const live = await httpGet(url(which, '/health/live'));
      expect(live.status).toBe(200);
      expect(JSON.parse(live.body)).toMatchObject({ status: 'ok', info: { event_loop: { status: 'up' } } });
    }
    const ready = JSON.parse((await httpGet(url('dispatcher', '/health/ready'))).body);
    expect(ready.info.dispatcher).toMatchObject({
      status: 'up',
      nats: 'connected',
      jetstream: 'reachable',
      consumers: { 'dispatch-builtin': 'bound' },
    });
  });

  it('moves the task counters on /metrics during a run', async () => {
    const succeeded = { plugin: 'builtin', status: 'succeeded' };
    const before = {
      succeeded: metricValue(await metrics('dispatcher'), 'orchestra_tasks_finished_total', succeeded),
      failed: metricValue(await metrics('dispatcher'), 'orchestra_tasks_finished_total', {
        plugin: 'builtin',
        status: 'failed',
      }),
      completed: metricValue(await metrics('orchestrator'), 'orchestra_executions_finished_total', {
        status: 'completed',
      }),
      retries: metricValue(await metrics('orchestrator'), 'orchestra_task_retries_total', {
        plugin: 'builtin',
      }),
    };
    const file = join(tmpdir(), `observability-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(PLAN));
    const run = await orchestra(['run', file, '--id', 'obs-1'], { NATS_URL: server.url });
    expect(run.code).toBe(0);

    // During the run: the first phase's two successes are counted while the slow task runs.
    await waitFor(
      async () => {
        const text = await metrics('dispatcher');
        return (
          metricValue(text, 'orchestra_tasks_finished_total', succeeded) === before.succeeded + 2 &&
          metricValue(text, 'orchestra_tasks_running', { plugin: 'builtin' }) === 1
        );
      },
      { timeoutMs: 20_000, what: 'two tasks finished and one running' },
    );
    const results = await client.waitForResults('obs-1', 30_000);
    expect(results.status).toBe('completed');

    const dispatcher = await metrics('dispatcher');
    expect(metricValue(dispatcher, 'orchestra_tasks_finished_total', succeeded)).toBe(before.succeeded + 3);
    expect(
      metricValue(dispatcher, 'orchestra_tasks_finished_total', { plugin: 'builtin', status: 'failed' }),
    ).toBe(before.failed + 1);
    expect(metricValue(dispatcher, 'orchestra_tasks_running', { plugin: 'builtin' })).toBe(0);
    expect(
      metricValue(dispatcher, 'orchestra_task_duration_seconds_count', succeeded),
    ).toBeGreaterThanOrEqual(before.succeeded + 3);
    // The orchestrator counts stored events once their effects are out: await, do not assume.
    await waitFor(
      async () =>
        metricValue(await metrics('orchestrator'), 'orchestra_executions_finished_total', {
          status: 'completed',
        }) ===
        before.completed + 1,
      { what: 'the finished execution counted' },
    );
    const orchestrator = await metrics('orchestrator');
    expect(metricValue(orchestrator, 'orchestra_task_retries_total', { plugin: 'builtin' })).toBe(
      before.retries + 1,
    );
    // The last phase's dispatch was caused by the first phase's last outcome.
    expect(
      metricValue(orchestrator, 'orchestra_orchestration_overhead_seconds_count'),
    ).toBeGreaterThanOrEqual(1);
    expect(orchestrator).toMatch(
      /orchestra_consumer_lag_messages\{stream="ORCHESTRA_OUTCOMES",consumer="orchestrator-outcomes"\} \d+/,
    );
    expect(orchestrator).toMatch(/^process_cpu_seconds_total /m);
  });

  it('traces one execution as one trace, from the plan command through every dispatch and outcome', async () => {
    // An upstream caller's trace context on the command: the execution continues that trace.
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const callerSpanId = '1122334455667788';
    await publishJson(
      jetstream(client.nc),
      Subjects.executeCommand,
      { type: 'ExecutePlan', plan: PLAN, execution_id: 'obs-2' },
      { msgID: 'obs-2', headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } },
    );
    expect((await client.waitForResults('obs-2', 30_000)).status).toBe('completed');

    const spansOf = (id: string) =>
      receiver.spans.filter((span) => span.attributes['orchestra.execution_id'] === id);
    // Spans are exported in batches: wait for the dispatcher's three attempts and their outcomes.
    await waitFor(
      () =>
        spansOf('obs-2').filter((span) => span.name === 'process orchestra.tasks.builtin').length >= 4 &&
        spansOf('obs-2').filter((span) => span.name === 'process orchestra.outcomes.>').length >= 4,
      { timeoutMs: 20_000, what: 'the spans of obs-2' },
    );
    const spans = spansOf('obs-2');
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
    expect(new Set(spans.map((span) => span.service))).toEqual(
      new Set(['orchestra-orchestrator-results', 'orchestra-dispatcher']),
    );
    const execute = spans.find((span) => span.name === 'process orchestra.cmd.execute');
    expect(execute?.parentSpanId).toBe(callerSpanId);
    // Every stored event of the execution carries the trace in its headers, too.
    const jsm = await jetstreamManager(client.nc);
    for (const stored of await client.events('obs-2')) {
      const msg = await jsm.streams.getMessage(Streams.events, { seq: stored.seq });
      expect(msg?.header?.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    }

    // Without a caller's context the execution is a trace of its own, still one across processes.
    await waitFor(() => spansOf('obs-1').some((span) => span.service === 'orchestra-dispatcher'), {
      timeoutMs: 20_000,
      what: 'the spans of obs-1',
    });
    const own = spansOf('obs-1');
    expect(new Set(own.map((span) => span.traceId)).size).toBe(1);
    expect(own[0]?.traceId).not.toBe(traceId);
    expect(receiver.rejected).toEqual([]);
  });

  it('is not ready while nats-server is down, and ready again when it is back; live throughout', async () => {
    await server.kill();
    for (const which of ['orchestrator', 'dispatcher'] as const) {
      await waitFor(async () => (await readyStatus(which)) === 503, { what: `${which} not ready` });
      expect((await httpGet(url(which, '/health/live'))).status).toBe(200);
    }
    const down = JSON.parse((await httpGet(url('dispatcher', '/health/ready'))).body);
    expect(down).toMatchObject({
      status: 'error',
      error: { dispatcher: { status: 'down', nats: 'disconnected' } },
    });
    await server.restart();
    for (const which of ['orchestrator', 'dispatcher'] as const) {
      await waitFor(async () => (await readyStatus(which)) === 200, {
        timeoutMs: 30_000,
        what: `${which} ready again`,
      });
    }
  });
});
