import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type BusLogger, type Clock, errorFields, type HandlerResult, publishJson } from '@orchestra/bus';
import {
  type DispatchTask,
  executionIdOf,
  type JsonValue,
  MessageIds,
  Subjects,
  type TaskOutcome,
  TaskUsage,
} from '@orchestra/contracts';
import { orchestraMetrics } from '@orchestra/observability';
import pLimit, { type LimitFunction } from 'p-limit';
import { PluginActivity } from './activity.js';
import { checkedOutput } from './output.js';
import type { Plugin } from './plugin.js';

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs one DispatchTask on its plugin and answers with a TaskOutcome. The command is acked only
 * after the outcome is stored, so a crash in between reruns the attempt (at least once); the
 * orchestrator counts an attempt's outcome once. On cancel or deadline the run is aborted and
 * nothing is answered: the orchestrator already decided (cancel) or will time the attempt out.
 */
export class TaskRunner {
  private readonly running = new Map<string, Set<AbortController>>();
  /** Per plugin, the attempts it runs at once; the consumer delivers more, to keep the bus busy. */
  private readonly slots = new Map<string, LimitFunction>();
  private cancelSubscription?: Subscription;
  readonly activity = new PluginActivity();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly plugins: ReadonlyMap<string, Plugin>,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
    /** Attempts run at once per plugin, unless the plugin says otherwise. */
    private readonly concurrency = 16,
    /** Takes secrets (API keys, HMAC secrets) out of an error message before it is published. */
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  listenForCancels(): void {
    this.cancelSubscription = this.nc.subscribe(Subjects.allCancelNotices, {
      callback: (_error, msg) => {
        try {
          const id = executionIdOf(msg.subject);
          for (const controller of this.running.get(id) ?? [])
            controller.abort(new Error('execution cancelled'));
        } catch (error) {
          this.logger.warn(
            { subject: msg.subject, ...errorFields(error) },
            'ignored a malformed cancel notice',
          );
        }
      },
    });
  }

  /** Set by stop(): an attempt aborted from then on is handed back, not acked. */
  private stopping = false;

  /**
   * Aborts the running attempts and hands their commands back (nak without delay), so another
   * dispatcher runs them at once instead of after their deadline (the attempt runs again: at
   * least once, docs/reliability.md). Idempotent.
   */
  stop(): void {
    this.stopping = true;
    this.cancelSubscription?.unsubscribe();
    for (const controllers of this.running.values()) {
      for (const controller of controllers) controller.abort(new Error('dispatcher stopping'));
    }
  }

  async run(task: DispatchTask): Promise<HandlerResult> {
    const log = {
      execution_id: task.execution_id,
      phase_id: task.phase_id,
      task_id: task.task_id,
      attempt: task.attempt_number,
    };
    const plugin = this.plugins.get(task.plugin);
    if (!plugin) return { term: `this dispatcher does not host plugin ${task.plugin}` };
    if (this.stopping) return { nak: 0 };
    const remaining = task.deadline_at - this.clock.now();
    if (remaining <= 0) {
      this.logger.debug(log, 'deadline passed before start: left to the orchestrator to time out');
      return { ack: true };
    }
    const controller = new AbortController();
    // setTimeout fires at once for a delay over 2^31-1 ms: a far deadline must not abort the task.
    const deadline = setTimeout(
      () => controller.abort(new Error('deadline reached')),
      Math.min(remaining, MAX_TIMEOUT_MS),
    );
    this.track(task.execution_id, controller, true);
    const metrics = orchestraMetrics();
    metrics.tasksRunning.inc({ plugin: task.plugin });
    this.activity.started(plugin.name);
    const started = this.clock.now();
    const usage = new UsageTally(this.logger, log);
    let outcome: TaskOutcome;
    try {
      // The command was delivered while the plugin's slots may all be taken: it waits here, kept
      // alive by its consumer (as every held message is), and its outcome's publish does not hold a slot.
      const output = await this.slotsOf(plugin)(() => {
        controller.signal.throwIfAborted();
        return plugin.run(task, { signal: controller.signal, reportUsage: usage.add });
      });
      outcome = this.succeeded(task, checkedOutput(output), started, usage.total);
    } catch (error) {
      if (controller.signal.aborted) {
        metrics.taskFinished(task.plugin, 'aborted', this.clock.now() - started);
        this.activity.ended(plugin.name, 'aborted');
        this.logger.debug({ ...log, reason: String(controller.signal.reason) }, 'attempt aborted');
        // Cancelled or past its deadline: the orchestrator decides. Stopping: another dispatcher runs it.
        return this.stopping ? { nak: 0 } : { ack: true };
      }
      outcome = this.failed(task, error, started, usage.total);
    } finally {
      clearTimeout(deadline);
      this.track(task.execution_id, controller, false);
      metrics.tasksRunning.dec({ plugin: task.plugin });
    }
    metrics.taskFinished(task.plugin, outcome.status, outcome.duration_ms);
    try {
      await publishJson(this.js, Subjects.outcomes(task.execution_id), outcome, {
        msgID: MessageIds.outcome(task.execution_id, task.task_id, task.attempt_number),
      });
    } finally {
      this.activity.ended(plugin.name, outcome.status);
    }
    this.logger.debug(
      {
        ...log,
        status: outcome.status,
        ...(outcome.status === 'failed' ? { code: outcome.error.code } : {}),
      },
      'attempt answered',
    );
    return { ack: true };
  }

  private slotsOf(plugin: Plugin): LimitFunction {
    let slots = this.slots.get(plugin.name);
    if (!slots) {
      slots = pLimit(plugin.concurrency ?? this.concurrency);
      this.slots.set(plugin.name, slots);
    }
    return slots;
  }

  private succeeded(
    task: DispatchTask,
    output: JsonValue,
    started: number,
    usage: TaskUsage | undefined,
  ): TaskOutcome {
    return { ...this.common(task, started, usage), status: 'succeeded', output };
  }

  private failed(
    task: DispatchTask,
    error: unknown,
    started: number,
    usage: TaskUsage | undefined,
  ): TaskOutcome {
    // Duck-typed: an Error from another realm (a library's) is still read for its message.
    const raw = (error as { message?: unknown } | undefined)?.message;
    const message = this.redact(typeof raw === 'string' ? raw : String(error));
    const code = (error as { code?: unknown } | undefined)?.code;
    const retryable = (error as { retryable?: unknown } | undefined)?.retryable;
    return {
      ...this.common(task, started, usage),
      status: 'failed',
      error: {
        message: message.slice(0, 8192),
        ...(typeof code === 'string' ? { code: code.slice(0, 128) } : {}),
        ...(retryable === false ? { retryable: false } : {}),
      },
    };
  }

  private common(task: DispatchTask, started: number, usage: TaskUsage | undefined) {
    const finished_at = this.clock.now();
    return {
      type: 'TaskOutcome' as const,
      execution_id: task.execution_id,
      phase_id: task.phase_id,
      task_id: task.task_id,
      attempt_number: task.attempt_number,
      plugin_used: task.plugin,
      duration_ms: Math.max(0, finished_at - started),
      finished_at,
      ...(usage ? { usage } : {}),
    };
  }

  private track(executionId: string, controller: AbortController, add: boolean): void {
    const set = this.running.get(executionId) ?? new Set<AbortController>();
    if (add) set.add(controller);
    else set.delete(controller);
    if (set.size === 0) this.running.delete(executionId);
    else this.running.set(executionId, set);
  }
}

/** The usage a plugin reports during one attempt: tokens add up, the last model and reason stay. */
class UsageTally {
  total: TaskUsage | undefined;

  constructor(
    private readonly logger: BusLogger,
    private readonly log: object,
  ) {}

  readonly add = (reported: TaskUsage): void => {
    const parsed = TaskUsage.safeParse(reported);
    if (!parsed.success) {
      this.logger.warn(
        { ...this.log, issues: parsed.error.issues.length },
        'ignored invalid usage from a plugin',
      );
      return;
    }
    const usage = parsed.data;
    this.total = {
      model: usage.model,
      input_tokens: (this.total?.input_tokens ?? 0) + usage.input_tokens,
      output_tokens: (this.total?.output_tokens ?? 0) + usage.output_tokens,
      ...(usage.finish_reason === undefined ? {} : { finish_reason: usage.finish_reason }),
    };
  };
}
