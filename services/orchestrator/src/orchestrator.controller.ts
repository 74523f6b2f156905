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
    const wait = timer.due_at - this.clock.now();
    if (wait > 0) return { nak: wait };
    return this.run({ kind: 'timer', timer }, ctx);
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

  private async run(input: DecisionInput, ctx: JetStreamContext): Promise<HandlerResult> {
    await this.commands.execute(new HandleInput(input, ctx.message.redelivered));
    return { ack: true };
  }
}
