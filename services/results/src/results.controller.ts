import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import type { HandlerResult, JetStreamContext } from '@orchestra/bus';
import { type ExecutionEvent, Subjects } from '@orchestra/contracts';
import { ResultsProjector } from './projector.js';
import { ResultsApi } from './results.api.js';

@Controller()
export class ResultsController {
  constructor(
    private readonly projector: ResultsProjector,
    private readonly api: ResultsApi,
  ) {}

  @EventPattern<string>(Subjects.allEvents)
  async event(@Payload() event: ExecutionEvent, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    await this.projector.apply(event, ctx.message.seq);
    return { ack: true };
  }

  @MessagePattern(Subjects.api('results'))
  results(@Payload() request: unknown) {
    return this.api.results(request);
  }

  @MessagePattern(Subjects.api('list'))
  list(@Payload() request: unknown) {
    return this.api.list(request);
  }
}
