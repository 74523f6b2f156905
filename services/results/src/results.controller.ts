import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { chainLinkOf, type HandlerResult, type JetStreamContext } from '@orchestra/bus';
import { type EventRecord, Subjects } from '@orchestra/contracts';
import { ResultsProjector } from './projector.js';
import { ResultsApi } from './results.api.js';

@Controller()
export class ResultsController {
  constructor(
    private readonly projector: ResultsProjector,
    private readonly api: ResultsApi,
  ) {}

  @EventPattern<string>(Subjects.allEvents)
  async event(@Payload() record: EventRecord, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    // Acked once a write that includes it is stored; the consumer keeps it alive until then.
    await this.projector.apply(record, ctx.message.seq, chainLinkOf(ctx.message.headers));
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
