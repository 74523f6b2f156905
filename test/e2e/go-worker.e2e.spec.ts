import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import {
  decode,
  ensureConsumer,
  noopLogger,
  publishJson,
  type RunningService,
  readEvents,
  TASK_CONSUMER,
  taskConsumerConfig,
} from '@orchestra/bus';
import { type DispatchTask, type ExecutionResults, Streams, Subjects } from '@orchestra/contracts';
import { startDispatcher } from '@orchestra/dispatcher';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { SchemaValidators, schemaFileForSubject } from '../schemas/ajv.js';
import { buildGoExample, GO_EXAMPLE_DIR, GoProcess, runGo } from '../support/go.js';
import { InProcessSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';

/**
 * The Go example (examples/go) against the real system: a plan whose tasks the Go worker serves
 * (a retry, a non-retryable failure going to the fallback plugin, a task longer than the ack
 * wait, references between tasks) completes with the right results, and the Go client sees the
 * same results; the worker honours cancel notices and deadlines, answering nothing; and a
 * TypeScript dispatcher serves the same plugin beside it, on the one shared durable consumer.
 * Every message on the bus meanwhile is valid by the published JSON Schemas (ajv).
 */
const MS = 1_000_000;
/** A command no worker can run (its fields are missing): the only invalid message the test sends. */
const POISON = { type: 'DispatchTask', execution_id: 'go-e2e-poison' };

describe('a worker and a client in Go', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let jsm: JetStreamManager;
  let binaries: { worker: string; client: string };
  const scratch = mkdtempSync(join(tmpdir(), 'orchestra-go-'));
  const traffic: Array<{ subject: string; data: Uint8Array }> = [];
  let tap: Subscription;
  const processes: GoProcess[] = [];
  const startWorker = async (plugin: string) => {
    const worker = await GoProcess.start(binaries.worker, ['-plugin', plugin], server.url, 'serving');
    processes.push(worker);
    return worker;
  };

  beforeAll(async () => {
    binaries = await buildGoExample(scratch);
    server = await startNatsServer();
    system = await new InProcessSystem(server).start(['orchestrator', 'results']);
    jsm = await jetstreamManager(system.client);
    tap = system.client.subscribe('orchestra.>', {
      callback: (_error, msg) => {
        traffic.push({ subject: msg.subject, data: msg.data });
      },
    });
  });

  afterAll(async () => {
    for (const process of processes) await process.stop();
    tap?.unsubscribe();
    await system?.stop();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  let worker: GoProcess;

  it('runs a plan on the Go worker: retries, a fallback, a long task, references; the Go client agrees', async () => {
    // An operator's short ack wait (1 s): the 3 s task lives only through the worker's in-progress acks.
    await ensureConsumer(jsm, TASK_CONSUMER.stream, {
      ...taskConsumerConfig('go-worker'),
      ack_wait: 1000 * MS,
    });
    worker = await startWorker('go-worker');
    await startWorker('go-backup');

    const run = await runGo(
      binaries.client,
      ['-plan', join(GO_EXAMPLE_DIR, 'plan.json'), '-id', 'go-e2e-plan', '-timeout', '40s'],
      server.url,
    );
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    const results = await system.finalResults('go-e2e-plan');
    expect(JSON.parse(run.stdout)).toEqual(results);

    expect(results.status).toBe('completed');
    expect(results.summary).toEqual({ total_tasks: 5, successful: 5, failed: 0, skipped: 0, timeout: 0 });
    const task = (id: string) => results.phases.flatMap((p) => p.tasks).find((t) => t.task_id === id);
    expect(task('words')?.output).toEqual({ text: 'ORCHESTRA IN GO', worker: 'go' });
    expect(task('numbers')).toMatchObject({ status: 'success', attempt_number: 3, plugin_used: 'go-worker' });
    expect(task('numbers')?.attempts.map((a) => [a.kind, a.status, a.error_code])).toEqual([
      ['first', 'failed', 'FLAKY'],
      ['retry', 'failed', 'FLAKY'],
      ['retry', 'success', undefined],
    ]);
    // retryable: false skipped the three retries: the fallback plugin answered the second attempt.
    expect(task('strict')).toMatchObject({ status: 'success', attempt_number: 2, plugin_used: 'go-backup' });
    expect(task('strict')?.attempts.map((a) => [a.kind, a.status, a.retryable])).toEqual([
      ['first', 'failed', false],
      ['fallback', 'success', undefined],
    ]);
    expect(task('long')?.output).toEqual({ slept_ms: 3000, worker: 'go' });
    expect(task('summary')?.output).toEqual({
      sum: 10,
      count: 4,
      title: 'ORCHESTRA IN GO',
      label: 'total of ORCHESTRA IN GO after 3 attempts',
      worker: 'go',
    });
    // Seven commands, each delivered once: the long one was kept alive, never handed out again.
    const consumer = await jsm.consumers.info(Streams.tasks, 'dispatch-go-worker');
    expect(consumer.delivered.consumer_seq).toBe(7);
    expect(worker.lines('go-e2e-plan/long#1: function sleep started')).toHaveLength(1);
    expect(consumer).toMatchObject({ num_pending: 0, num_ack_pending: 0 });
  });

  it('stops attempts on a deadline and on a cancel notice, and answers nothing for them', async () => {
    const sleep = (task_id: string, ms: number, timeout_ms: number) => ({
      task_id,
      assigned_plugin: 'go-worker',
      entry_point: { type: 'function', value: 'sleep' },
      input_context: { ms },
      timeout_ms,
    });
    const plan = {
      plan_id: 'go-stops',
      phases: [{ phase_id: 'p', tasks: [sleep('late', 20_000, 1000), sleep('hold', 20_000, 30_000)] }],
    };
    await system.execute(plan, 'go-e2e-stops');
    await waitFor(() => worker.lines('go-e2e-stops/late#1: aborted (deadline reached)').length === 1, {
      timeoutMs: 10_000,
      what: 'the Go worker to abort the attempt at its deadline',
    });
    await waitFor(
      async () =>
        (await readEvents(jsm, 'go-e2e-stops')).events.some(({ event }) => event.type === 'TaskTimedOut'),
      { what: 'the orchestrator to time the attempt out' },
    );
    expect(worker.lines('go-e2e-stops/hold#1: function sleep started')).toHaveLength(1);
    await publishJson(jetstream(system.client), Subjects.cancelCommand, {
      type: 'CancelExecution',
      execution_id: 'go-e2e-stops',
    });
    const results = await system.finalResults('go-e2e-stops');
    expect(results.status).toBe('cancelled');
    await waitFor(() => worker.lines('go-e2e-stops/hold#1: aborted (execution cancelled)').length === 1, {
      timeoutMs: 5000,
      what: 'the Go worker to abort the attempt on the cancel notice',
    });
    const { events } = await readEvents(jsm, 'go-e2e-stops');
    expect(events.map(({ event }) => event.type)).toContain('TaskTimedOut');
    expect(events.map(({ event }) => event.type)).not.toContain('OutcomeIgnored');
    expect(traffic.filter((m) => m.subject === Subjects.outcomes('go-e2e-stops'))).toEqual([]);
    await waitFor(
      async () => (await jsm.consumers.info(Streams.tasks, 'dispatch-go-worker')).num_ack_pending === 0,
      {
        what: 'both commands acked',
      },
    );
  });

  it('terminates a command it cannot read instead of taking it back forever', async () => {
    await publishJson(jetstream(system.client), Subjects.tasks('go-worker'), POISON);
    await waitFor(() => worker.lines('terminating a command on orchestra.tasks.go-worker').length === 1, {
      what: 'the Go worker to terminate the unreadable command',
    });
    const consumer = await jsm.consumers.info(Streams.tasks, 'dispatch-go-worker');
    expect(consumer).toMatchObject({ num_pending: 0, num_ack_pending: 0, num_redelivered: 0 });
  });

  it('shares the plugin with a TypeScript dispatcher on one durable consumer', async () => {
    // The Go worker alone creates the consumer, with the settings libs/bus gives the dispatcher.
    await worker.stop();
    await jsm.consumers.delete(Streams.tasks, 'dispatch-go-worker');
    worker = await startWorker('go-worker');
    expect(worker.lines('created consumer dispatch-go-worker')).toHaveLength(1);
    const created = (await jsm.consumers.info(Streams.tasks, 'dispatch-go-worker')).config;
    expect(created).toMatchObject(taskConsumerConfig('go-worker'));
    // A consumer of its own on the same subject is what the work-queue stream refuses.
    await expect(
      jsm.consumers.add(Streams.tasks, {
        durable_name: 'go-own',
        ack_policy: AckPolicy.Explicit,
        filter_subject: Subjects.tasks('go-worker'),
      }),
    ).rejects.toThrow('filtered consumer not unique on workqueue stream');

    let dispatcher: RunningService | undefined;
    try {
      dispatcher = await startDispatcher({
        connection: await system.connect('dispatcher'),
        logger: noopLogger,
        provision: false,
        concurrency: 2,
        plugins: [
          {
            name: 'go-worker',
            async run(task: DispatchTask) {
              await new Promise((resolve) => setTimeout(resolve, 100));
              return { text: String(task.input_context.text).toUpperCase(), worker: 'ts' };
            },
          },
        ],
      });
      const texts = Array.from({ length: 16 }, (_, i) => `text ${i}`);
      const tasks = texts.map((text, i) => ({
        task_id: `t${i}`,
        assigned_plugin: 'go-worker',
        entry_point: { type: 'function', value: 'upper' },
        input_context: { text },
      }));
      await system.execute({ plan_id: 'go-shared', phases: [{ phase_id: 'p', tasks }] }, 'go-e2e-shared');
      const results = await system.finalResults('go-e2e-shared');
      expect(results.status).toBe('completed');
      const outputs = results.phases[0]?.tasks.map((t) => t.output as { text: string; worker: string });
      expect(outputs?.map((o) => o.text)).toEqual(texts.map((text) => text.toUpperCase()));
      expect(new Set(outputs?.map((o) => o.worker))).toEqual(new Set(['go', 'ts']));
      const consumers = [];
      for await (const c of jsm.consumers.list(Streams.tasks)) consumers.push(c.name);
      expect(consumers.filter((name) => name.includes('go-worker'))).toEqual(['dispatch-go-worker']);
    } finally {
      await dispatcher?.stop();
    }
  });

  it('put only messages valid by the published JSON Schemas on the bus, and no dead letter', async () => {
    const validators = new SchemaValidators();
    const checked = new Set<string>();
    for (const { subject, data } of traffic) {
      const file = schemaFileForSubject(subject);
      const message = decode(data) as { execution_id?: unknown };
      if (!file || message.execution_id === POISON.execution_id) continue;
      const verdict = validators.validate(file, message);
      if (!verdict.valid) throw new Error(`${subject}: ${verdict.errors}\n${new TextDecoder().decode(data)}`);
      checked.add(file);
    }
    expect([...checked].sort()).toEqual([
      'cancel-execution.schema.json',
      'dispatch-task.schema.json',
      'event-record.schema.json',
      'execute-plan.schema.json',
      'task-outcome.schema.json',
    ]);
    for (const id of ['go-e2e-plan', 'go-e2e-stops', 'go-e2e-shared']) {
      const results = (await system.results(id)) as ExecutionResults;
      expect(validators.validate('execution-results.schema.json', results)).toEqual({
        valid: true,
        errors: '',
      });
    }
    expect((await jsm.streams.info(Streams.deadLetters)).state.messages).toBe(0);
  });
});
