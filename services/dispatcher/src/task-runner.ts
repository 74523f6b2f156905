import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  type BusLogger,
  type Clock,
  errorFields,
  type HandlerResult,
  type MessageContext,
  publishJson,
} from '@orchestra/bus';
import {
  type DispatchTask,
  depthExceeding,
  executionIdOf,
  type JsonValue,
  LIMITS,
  MessageIds,
  Subjects,
  type TaskOutcome,
} from '@orchestra/contracts';
import { orchestraMetrics } from '@orchestra/observability';
import pLimit, { type LimitFunction } from 'p-limit';
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

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly plugins: ReadonlyMap<string, Plugin>,
    private readonly clock: Clock,
    private readonly logger: BusLogger,
    /** Attempts run at once per plugin. */
    private readonly concurrency = 16,
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

  stop(): void {
    this.cancelSubscription?.unsubscribe();
    for (const controllers of this.running.values()) {
      for (const controller of controllers) controller.abort(new Error('dispatcher stopping'));
    }
  }

  async run(task: DispatchTask, ctx: MessageContext): Promise<HandlerResult> {
    const log = {
      execution_id: task.execution_id,
      phase_id: task.phase_id,
      task_id: task.task_id,
      attempt: task.attempt_number,
    };
    const plugin = this.plugins.get(task.plugin);
    if (!plugin) return { term: `this dispatcher does not host plugin ${task.plugin}` };
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
    // At a third of the consumer's ack wait (as the server reports it), so no heartbeat is late.
    const heartbeat = setInterval(() => ctx.working(), ctx.keepAliveMs);
    this.track(task.execution_id, controller, true);
    const metrics = orchestraMetrics();
    metrics.tasksRunning.inc({ plugin: task.plugin });
    const started = this.clock.now();
    let outcome: TaskOutcome;
    try {
      // The command was delivered while the plugin's slots may all be taken: it waits here, kept
      // alive by the heartbeat, and its outcome's publish does not hold a slot.
      const output = await this.slotsOf(plugin.name)(() => {
        controller.signal.throwIfAborted();
        return plugin.run(task, { signal: controller.signal });
      });
      outcome = this.succeeded(task, output, started);
    } catch (error) {
      if (controller.signal.aborted) {
        metrics.taskFinished(task.plugin, 'aborted', this.clock.now() - started);
        this.logger.debug({ ...log, reason: String(controller.signal.reason) }, 'attempt aborted');
        return { ack: true };
      }
      outcome = this.failed(task, error, started);
    } finally {
      clearTimeout(deadline);
      clearInterval(heartbeat);
      this.track(task.execution_id, controller, false);
      metrics.tasksRunning.dec({ plugin: task.plugin });
    }
    metrics.taskFinished(task.plugin, outcome.status, outcome.duration_ms);
    await publishJson(this.js, Subjects.outcomes(task.execution_id), outcome, {
      msgID: MessageIds.outcome(task.execution_id, task.task_id, task.attempt_number),
    });
    this.logger.debug({ ...log, status: outcome.status }, 'attempt answered');
    return { ack: true };
  }

  private slotsOf(plugin: string): LimitFunction {
    let slots = this.slots.get(plugin);
    if (!slots) {
      slots = pLimit(this.concurrency);
      this.slots.set(plugin, slots);
    }
    return slots;
  }

  private succeeded(task: DispatchTask, output: unknown, started: number): TaskOutcome {
    let text: string | undefined;
    try {
      text = JSON.stringify(output ?? null);
      if (text === undefined) throw new Error(`a ${typeof output} is not a JSON value`);
    } catch (error) {
      // Cycles, BigInts, or nesting too deep for the serialiser.
      const reason = error instanceof Error ? error.message : String(error);
      return this.failed(task, new Error(`output is not serialisable as JSON: ${reason}`), started);
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > LIMITS.outputBytes) {
      return this.failed(
        task,
        new Error(`output is ${bytes} bytes; the limit is ${LIMITS.outputBytes}`),
        started,
      );
    }
    const value: unknown = JSON.parse(text);
    const deep = depthExceeding(value, LIMITS.jsonDepth, 'output');
    if (deep) {
      return this.failed(
        task,
        new Error(`output nests deeper than ${LIMITS.jsonDepth} levels (at ${deep})`),
        started,
      );
    }
    return { ...this.common(task, started), status: 'succeeded', output: value as JsonValue };
  }

  private failed(task: DispatchTask, error: unknown, started: number): TaskOutcome {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    return {
      ...this.common(task, started),
      status: 'failed',
      error: {
        message: message.slice(0, 8192),
        ...(typeof code === 'string' ? { code: code.slice(0, 128) } : {}),
      },
    };
  }

  private common(task: DispatchTask, started: number) {
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
