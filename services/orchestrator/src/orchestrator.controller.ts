import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { CLOCK, type Clock, type HandlerResult, JetStreamContext } from '@orchestra/bus';
import {
  type CancelExecution,
  type ExecutePlan,
  executionIdOf,
  type RepairExecution,
  type RerunExecution,
  Subjects,
  type TaskOutcome,
  type Timer,
} from '@orchestra/contracts';
import type { Decision, DecisionInput } from '@orchestra/execution';
import { OrchestraMetrics } from '@orchestra/observability';
import { ApiService } from './api.service.js';
import { EFFECTS_PATTERN } from './bindings.js';
import { HandleInput } from './handle-input.command.js';
import { Orchestrator } from './orchestrator.js';

/** A cancel may overtake its own ExecutePlan (separate consumers): wait for it this many deliveries. */
const CANCEL_WAITS_FOR_EXECUTE = 10;

/** Thin adapters: bus message -> decider input -> CQRS command. The decisions live in libs/execution. */
@Controller()
export class OrchestratorController {
  constructor(
    private readonly commands: CommandBus,
    private readonly api: ApiService,
    private readonly orchestrator: Orchestrator,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(OrchestraMetrics) private readonly metrics: OrchestraMetrics,
  ) {}

  @EventPattern<string>(Subjects.executeCommand)
  async execute(@Payload() command: ExecutePlan, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    // Without an id, one is derived from the stored command, so a redelivery finds the same execution.
    const execution_id = command.execution_id ?? `cmd-${ctx.message.seq}`;
    await this.run({ kind: 'execute', execution_id, plan: command.plan });
    return { ack: true };
  }

  /** A re-run: its source is read from the log here, so the decider stays free of I/O. */
  @EventPattern<string>(Subjects.rerunCommand)
  async rerun(@Payload() command: RerunExecution, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    const execution_id = command.execution_id ?? `cmd-${ctx.message.seq}`;
    const source = await this.api.rerunSource(command.source_execution_id);
    await this.run({
      kind: 'rerun',
      execution_id,
      source,
      ...(command.plan !== undefined ? { plan: command.plan } : {}),
      ...(command.tasks ? { tasks: command.tasks } : {}),
    });
    return { ack: true };
  }

  /** orchestra doctor --repair: re-publish what the log implies (see ExecutionRepaired). */
  @EventPattern<string>(Subjects.repairCommand)
  async repair(@Payload() command: RepairExecution): Promise<HandlerResult> {
    await this.run({
      kind: 'repair',
      execution_id: command.execution_id,
      reason: command.reason,
      tasks: command.tasks,
    });
    return { ack: true };
  }

  @EventPattern<string>(Subjects.cancelCommand)
  async cancel(@Payload() command: CancelExecution, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    const decision = await this.run({
      kind: 'cancel',
      execution_id: command.execution_id,
      reason: command.reason,
    });
    if (decision.ignored === 'unknown execution' && ctx.message.deliveryCount < CANCEL_WAITS_FOR_EXECUTE) {
      return { nak: 1_000 };
    }
    return { ack: true };
  }

  @EventPattern<string>(Subjects.allOutcomes)
  async outcome(@Payload() outcome: TaskOutcome): Promise<HandlerResult> {
    // The hot path: straight to the orchestrator, no command bus in between (it would only forward).
    const decision = await this.orchestrator.handle({ kind: 'outcome', outcome });
    this.metrics.outcomeDecided(outcome, decision.events, this.clock.now());
    // No log names this execution (never started, or past the events' retention): keep the
    // answer as a dead letter rather than drop it without a trace.
    if (decision.ignored === 'unknown execution')
      return { term: `outcome for unknown execution "${outcome.execution_id}"` };
    return { ack: true };
  }

  @EventPattern<string>(Subjects.allTimers)
  async timer(@Payload() timer: Timer): Promise<HandlerResult> {
    const now = this.clock.now();
    if (timer.due_at > now)
      return this.orchestrator.isTimerMoot(timer) ? { ack: true } : { nak: timer.due_at - now };
    await this.orchestrator.handle({ kind: 'timer', timer });
    return { ack: true };
  }

  /**
   * The outbox: every stored record (headers only), in order, to publish the dispatches and
   * timers it asks for when the replica that appended it did not. An invalid record is never
   * acted on; the results service, which reads every record whole, dead-letters it.
   */
  @EventPattern<string>(EFFECTS_PATTERN)
  async effects(@Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    await this.orchestrator.publishEffectsOf(executionIdOf(ctx.message.subject), ctx.message.seq);
    return { ack: true };
  }

  @MessagePattern(Subjects.api('execute'))
  apiExecute(@Payload() request: unknown) {
    return this.api.execute(request);
  }

  @MessagePattern(Subjects.api('rerun'))
  apiRerun(@Payload() request: unknown) {
    return this.api.rerun(request);
  }

  @MessagePattern(Subjects.api('repair'))
  apiRepair(@Payload() request: unknown) {
    return this.api.repair(request);
  }

  @MessagePattern(Subjects.api('cancel'))
  apiCancel(@Payload() request: unknown) {
    return this.api.cancel(request);
  }

  @MessagePattern(Subjects.api('status'))
  apiStatus(@Payload() request: unknown) {
    return this.api.status(request);
  }

  /**
   * A domain action (execute, cancel, re-run, repair) as a CQRS command. The consumer keeps the
   * message alive while it waits its turn.
   */
  private run(input: DecisionInput): Promise<Decision> {
    return this.commands.execute(new HandleInput(input));
  }
}
