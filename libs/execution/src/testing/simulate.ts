import type { ExecutionEvent, PlanInput, TaskOutcome } from '@orchestra/contracts';
import { type Decision, type DecisionInput, decide } from '../decide.js';
import type { Effect } from '../effects.js';
import { effectsOf } from '../effects.js';
import { fold } from '../evolve.js';
import { type ExecutionState, initialState } from '../state.js';

/**
 * A tiny in-memory driver for the decider, for tests: keeps the event log, feeds inputs at a
 * given time, and exposes the effects (dispatches, timers) the orchestrator would publish.
 */
export class Simulation {
  readonly log: ExecutionEvent[] = [];
  state: ExecutionState = initialState();
  now = 1_000_000;
  effects: Effect[] = [];
  lastDecision: Decision | undefined;

  constructor(readonly executionId = 'exec-1') {}

  execute(plan: PlanInput | unknown): Decision {
    return this.input({ kind: 'execute', execution_id: this.executionId, plan });
  }

  cancel(reason?: string): Decision {
    return this.input({ kind: 'cancel', execution_id: this.executionId, reason });
  }

  input(input: DecisionInput): Decision {
    const decision = decide(this.state, input, { now: this.now });
    this.log.push(...decision.events);
    this.state = decision.state;
    this.effects.push(...effectsOf(decision.state, decision.events));
    this.lastDecision = decision;
    return decision;
  }

  /** Dispatches published so far and not yet answered, in order. */
  openDispatches() {
    return this.effects.flatMap((effect) => (effect.kind === 'dispatch' ? [effect.command] : []));
  }

  dispatchOf(task_id: string, attempt?: number) {
    const found = this.openDispatches().filter(
      (command) => command.task_id === task_id && (attempt === undefined || command.attempt_number === attempt),
    );
    const command = found.at(-1);
    if (!command) throw new Error(`no dispatch of ${task_id}${attempt ? ` attempt ${attempt}` : ''}`);
    return command;
  }

  succeed(task_id: string, output: unknown = { ok: true }, attempt?: number): Decision {
    const command = this.dispatchOf(task_id, attempt);
    return this.outcome({
      type: 'TaskOutcome',
      status: 'succeeded',
      output: output as TaskOutcome extends { output: infer O } ? O : never,
      execution_id: command.execution_id,
      phase_id: command.phase_id,
      task_id,
      attempt_number: command.attempt_number,
      plugin_used: command.plugin,
      duration_ms: 5,
      finished_at: this.now,
    });
  }

  fail(task_id: string, message = 'boom', attempt?: number): Decision {
    const command = this.dispatchOf(task_id, attempt);
    return this.outcome({
      type: 'TaskOutcome',
      status: 'failed',
      error: { message },
      execution_id: command.execution_id,
      phase_id: command.phase_id,
      task_id,
      attempt_number: command.attempt_number,
      plugin_used: command.plugin,
      duration_ms: 5,
      finished_at: this.now,
    });
  }

  outcome(outcome: TaskOutcome): Decision {
    return this.input({ kind: 'outcome', outcome });
  }

  /** Moves the clock and fires every timer that is due, as the orchestrator's timer consumer would. */
  advanceTo(now: number): Decision[] {
    this.now = now;
    const due = this.effects.flatMap((effect) =>
      effect.kind === 'timer' && effect.timer.due_at <= now ? [effect.timer] : [],
    );
    this.effects = this.effects.filter((effect) => !(effect.kind === 'timer' && effect.timer.due_at <= now));
    return due.map((timer) => this.input({ kind: 'timer', timer }));
  }

  types(): string[] {
    return this.log.map((event) => event.type);
  }

  refold(): ExecutionState {
    return fold(this.log);
  }
}
