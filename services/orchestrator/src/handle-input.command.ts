import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Decision, DecisionInput } from '@orchestra/execution';
import { Orchestrator } from './orchestrator.js';

/** One input for one execution, as a CQRS command: the transport's handlers only send these. */
export class HandleInput extends Command<Decision> {
  constructor(readonly input: DecisionInput) {
    super();
  }
}

@CommandHandler(HandleInput)
export class HandleInputHandler implements ICommandHandler<HandleInput, Decision> {
  constructor(private readonly orchestrator: Orchestrator) {}

  execute(command: HandleInput): Promise<Decision> {
    return this.orchestrator.handle(command.input);
  }
}
