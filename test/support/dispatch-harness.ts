import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type BusLogger, connectNats, decode, publishJson, type RunningService } from '@orchestra/bus';
import { type DispatchTask, MessageIds, Streams, Subjects, type TaskOutcome } from '@orchestra/contracts';
import { type Plugin, pluginsFromText, startDispatcher } from '@orchestra/dispatcher';
import type { NatsServerHandle } from '@orchestra/testing';
import { waitFor } from './wait.js';

/** Every line a dispatcher logged, to check what it says (and what it must never say). */
export class RecordingLogger implements BusLogger {
  readonly lines: string[] = [];
  debug = (obj: object, msg: string) => this.record('debug', obj, msg);
  info = (obj: object, msg: string) => this.record('info', obj, msg);
  warn = (obj: object, msg: string) => this.record('warn', obj, msg);
  error = (obj: object, msg: string) => this.record('error', obj, msg);
  private record(level: string, obj: object, msg: string) {
    this.lines.push(JSON.stringify({ level, ...obj, msg }));
  }
}

let counter = 0;

/**
 * A real dispatcher on a test's nats-server, hosting the plugins of a plugins file, driven by
 * DispatchTask commands published as the orchestrator would, answered on the outcomes stream.
 */
export class DispatchHarness {
  private constructor(
    readonly nc: NatsConnection,
    private readonly dispatcher: RunningService,
    readonly logger: RecordingLogger,
  ) {}

  static async start(
    server: NatsServerHandle,
    pluginsYaml: string,
    env: Record<string, string>,
    extra: Plugin[] = [],
  ): Promise<DispatchHarness> {
    const loaded = pluginsFromText(pluginsYaml, env);
    if (!loaded.ok) throw new Error(`plugins file: ${JSON.stringify(loaded.issues)}`);
    const nc = await connectNats({ servers: [server.url], name: 'dispatch-harness', env: {} });
    const logger = new RecordingLogger();
    const dispatcher = await startDispatcher({
      connection: nc,
      logger,
      plugins: [...loaded.plugins, ...extra],
      redact: loaded.redact,
      instance: 'harness',
    });
    return new DispatchHarness(nc, dispatcher, logger);
  }

  /** A command for `plugin`, with a fresh execution id; the deadline is `deadlineMs` from now. */
  command(plugin: string, overrides: Partial<DispatchTask> = {}, deadlineMs = 20_000): DispatchTask {
    const now = Date.now();
    counter += 1;
    return {
      type: 'DispatchTask',
      execution_id: `h${counter}-${now.toString(36)}`,
      plan_id: 'harness',
      phase_id: 'phase-1',
      task_id: 'task-1',
      attempt_number: 1,
      plugin,
      description: 'Analyze the financials',
      entry_point: { type: 'skill', value: 'analyze' },
      input_context: { company: 'ACME Robotics', revenue: { '2024': 48.9 } },
      output_key: 'financial_analysis',
      dispatched_at: now,
      deadline_at: now + deadlineMs,
      ...overrides,
    };
  }

  async publish(task: DispatchTask): Promise<void> {
    await publishJson(jetstream(this.nc), Subjects.tasks(task.plugin), task, {
      msgID: MessageIds.dispatch(task.execution_id, task.task_id, task.attempt_number),
    });
  }

  /** Publishes the command and returns its one outcome. */
  async run(task: DispatchTask, timeoutMs = 20_000): Promise<TaskOutcome> {
    await this.publish(task);
    return waitFor(() => this.outcomes(task.execution_id).then((all) => all[0]), {
      timeoutMs,
      what: `the outcome of ${task.execution_id}`,
    });
  }

  /** Every outcome stored for an execution (more than one would be a duplicate). */
  async outcomes(executionId: string): Promise<TaskOutcome[]> {
    const jsm = await jetstreamManager(this.nc);
    const subject = Subjects.outcomes(executionId);
    const info = await jsm.streams.info(Streams.outcomes, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    const out: TaskOutcome[] = [];
    if (count === 0) return out;
    const last = await jsm.streams.getMessage(Streams.outcomes, { last_by_subj: subject });
    if (last) out.push(decode(last.data) as TaskOutcome);
    // Only the count matters beyond the first: a duplicate shows as count > 1.
    for (let i = 1; i < count; i++) out.push(out[0] as TaskOutcome);
    return out;
  }

  cancel(executionId: string): void {
    this.nc.publish(Subjects.cancelNotice(executionId));
  }

  async stop(): Promise<void> {
    await this.dispatcher.stop();
    await this.nc.close();
  }
}

/** The error of a failed attempt; any other outcome fails the test, saying what it was. */
export function failed(outcome: TaskOutcome) {
  if (outcome.status !== 'failed')
    throw new Error(`expected a failed attempt, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}
