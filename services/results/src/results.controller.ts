import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import type { HandlerResult, JetStreamContext } from '@orchestra/bus';
import { type EventRecord, Subjects } from '@orchestra/contracts';
import { ResultsProjector } from './projector.js';
import { ResultsApi } from './results.api.js';

/** How often a message waiting for its write tells the server it is still being worked on. */
export class ResultsTiming {
  constructor(readonly heartbeatMs: number) {}
}

@Controller()
export class ResultsController {
  constructor(
    private readonly projector: ResultsProjector,
    private readonly api: ResultsApi,
    private readonly timing: ResultsTiming,
  ) {}

  @EventPattern<string>(Subjects.allEvents)
  async event(@Payload() record: EventRecord, @Ctx() ctx: JetStreamContext): Promise<HandlerResult> {
    // Acked once a write that includes it is stored; until then, keep it from being redelivered.
    const heartbeat = setInterval(() => {
      try {
        ctx.message.working();
      } catch {
        // the connection is gone: the message comes again after its ack wait anyway
      }
    }, this.timing.heartbeatMs);
    try {
      await this.projector.apply(record, ctx.message.seq);
    } finally {
      clearInterval(heartbeat);
    }
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
