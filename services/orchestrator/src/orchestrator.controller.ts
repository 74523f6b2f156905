import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { CLOCK, type Clock, type HandlerResult, JetStreamContext } from '@orchestra/bus';
import {
  type CancelExecution,
  type ExecutePlan,
  Subjects,
  type TaskOutcome,
  type Timer,
} from '@orchestra/contracts';
import type { DecisionInput } from '@orchestra/execution';
import { ApiService } from './api.service.js';
import { ORCHESTRATOR_ACK_WAIT_MS } from './bindings.js';
import { HandleInput } from './handle-input.command.js';

/** Thin adapters: bus message -> decider input -> CQRS command. The decisions live in libs/execution. */
@Controller()
export class OrchestratorController {
  constructor(
    private readonly commands: CommandBus,
    private readonly api: ApiService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @EventPattern<string>(Subjects.executeCommand)
  execute(@Payload() command: ExecutePlan, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    // Without an id, one is derived from the stored command, so a redelivery finds the same execution.
    const execution_id = command.execution_id ?? `cmd-${ctx.message.seq}`;
    return this.run({ kind: 'execute', execution_id, plan: command.plan }, ctx);
  }

  @EventPattern<string>(Subjects.cancelCommand)
  cancel(@Payload() command: CancelExecution, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    return this.run({ kind: 'cancel', execution_id: command.execution_id, reason: command.reason }, ctx);
  }

  @EventPattern<string>(Subjects.allOutcomes)
  outcome(@Payload() outcome: TaskOutcome, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    return this.run({ kind: 'outcome', outcome }, ctx);
  }

  @EventPattern<string>(Subjects.allTimers)
  async timer(@Payload() timer: Timer, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    const now = this.clock.now();
    if (timer.due_at > now) return { nak: timer.due_at - now };
    // A timer is nak'ed until due, so a second delivery is normal. Only one arriving an ack-wait
    // after it was due can follow a handling that a crash cut short.
    const redelivered = ctx.message.redelivered && now >= timer.due_at + ORCHESTRATOR_ACK_WAIT_MS * 0.9;
    return this.run({ kind: 'timer', timer }, ctx, redelivered);
  }

  @MessagePattern(Subjects.api('execute'))
  apiExecute(@Payload() request: unknown) {
    return this.api.execute(request);
  }

  @MessagePattern(Subjects.api('cancel'))
  apiCancel(@Payload() request: unknown) {
    return this.api.cancel(request);
  }

  @MessagePattern(Subjects.api('status'))
  apiStatus(@Payload() request: unknown) {
    return this.api.status(request);
  }

  private async run(
    input: DecisionInput,
    ctx: JetStreamContext,
    redelivered = ctx.message.redelivered,
  ): Promise<HandlerResult> {
    await this.commands.execute(new HandleInput(input, redelivered));
    return { ack: true };
  }
}
