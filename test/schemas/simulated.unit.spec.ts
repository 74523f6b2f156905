import {
  DispatchTask,
  EventRecord,
  type ExecutionEvent,
  ExecutionResults,
  type TaskOutcome as Outcome,
  type ExecutionResults as Results,
  TaskOutcome,
} from '@orchestra/contracts';
import { type DecisionInput, toExecutionResults } from '@orchestra/execution';
import { type Answer, phase, plan, Simulation, task } from '@orchestra/testing';
import type { z } from 'zod';
import { SchemaValidators } from './ajv.js';

/**
 * Valid messages of every kind, as the decider makes them in whole runs (retries, a fallback
 * after a non-retryable failure, model usage, a timeout, a skip, an abort, a cancel, a late
 * outcome, a rejected plan): ajv must accept every one of them, as zod does.
 */
class RecordingSimulation extends Simulation {
  readonly records: ExecutionEvent[][] = [];
  readonly outcomes: Outcome[] = [];
  readonly results: Results[] = [];

  override input(input: DecisionInput) {
    const decision = super.input(input);
    if (decision.events.length > 0) this.records.push([...decision.events]);
    if (input.kind === 'outcome') this.outcomes.push(input.outcome);
    this.results.push(toExecutionResults(this.state, this.executionId));
    return decision;
  }
}

const usage = { model: 'gpt-4o-mini', input_tokens: 120, output_tokens: 30, finish_reason: 'stop' };

/** Answers by entry point: `ok` echoes, `flaky` fails its first attempt, `refused` is not retryable. */
function world(command: DispatchTask): Answer {
  const kind = command.entry_point.value;
  if (kind === 'hang') return { kind: 'silent' };
  if (kind === 'flaky' && command.attempt_number === 1)
    return { kind: 'fail', message: 'busy', code: 'BUSY' };
  if (kind === 'refused' && command.plugin === 'model@primary')
    return { kind: 'fail', message: '401 Unauthorized', code: 'HTTP_401', retryable: false, usage };
  if (kind === 'broken') return { kind: 'fail', message: 'always broken' };
  return {
    kind: 'succeed',
    output: { input: command.input_context, nested: [1, 'two', { three: null }] },
    usage,
  };
}

const fn = (value: string, extra = {}) => ({ entry_point: { type: 'function', value }, ...extra });

function runs(): RecordingSimulation[] {
  const rich = new RecordingSimulation('exec-rich');
  rich.execute(
    plan([
      phase('gather', [
        task('ok', fn('ok', { input_context: { company: 'ACME' } })),
        task('flaky', fn('flaky', { retries: 2, backoff: { initial_ms: 10, multiplier: 2, max_ms: 100 } })),
        task('refused', {
          ...fn('refused', { retries: 3 }),
          assigned_plugin: 'model@primary',
          fallback_plugin: 'model@backup',
        }),
        task('hang', fn('hang', { timeout_ms: 500 })),
      ]),
      phase(
        'report',
        [
          task(
            'uses-ok',
            fn('ok', {
              input_context: { c: '${gather.ok.output.input.company}', n: 'n=${gather.flaky.output.nested}' },
            }),
          ),
          task('needs-hang', fn('ok', { input_context: { h: '${gather.hang.output}' } })),
        ],
        { depends_on_phases: ['gather'], execution_mode: 'sequential' },
      ),
    ]),
  );
  rich.run(world);

  const aborting = new RecordingSimulation('exec-abort');
  aborting.execute(
    plan([phase('p', [task('broken', fn('broken')), task('slow', fn('hang'))])], {
      on_partial_failure: 'abort',
    }),
  );
  aborting.run(world);

  const cancelled = new RecordingSimulation('exec-cancel');
  cancelled.execute(plan([phase('p', [task('slow', fn('hang')), task('quick', fn('ok'))])]));
  cancelled.succeed('quick');
  // The same answer again, as a worker that crashed before acking would send: OutcomeIgnored.
  cancelled.answer(cancelled.dispatchOf('quick'), { kind: 'succeed', output: 'again' });
  cancelled.cancel('the user changed their mind');

  const rejected = new RecordingSimulation('exec-rejected');
  rejected.execute({ plan_id: 'bad', phases: [{ phase_id: 'p', tasks: [{ task_id: 't' }] }] });
  return [rich, aborting, cancelled, rejected];
}

const validators = new SchemaValidators();
const simulations = runs();

function expectAccepted(file: string, contract: z.ZodType, values: readonly unknown[]) {
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) {
    expect(contract.safeParse(value).success).toBe(true);
    const verdict = validators.validate(file, value);
    if (!verdict.valid) throw new Error(`${file} refuses ${JSON.stringify(value)}:\n${verdict.errors}`);
  }
}

describe('valid messages of simulated runs through the JSON Schemas (ajv)', () => {
  it('made every kind of event', () => {
    const types = new Set(simulations.flatMap((sim) => sim.log.map((event) => event.type)));
    expect([...types].sort()).toEqual(
      [
        'ExecutionCancelled',
        'ExecutionFinished',
        'ExecutionRejected',
        'ExecutionStarted',
        'OutcomeIgnored',
        'PhaseFinished',
        'PhaseStarted',
        'TaskDispatched',
        'TaskFailed',
        'TaskGaveUp',
        'TaskRetryScheduled',
        'TaskSkipped',
        'TaskSucceeded',
        'TaskTimedOut',
      ].sort(),
    );
  });

  it('accepts every event record and every event by its own schema', () => {
    expectAccepted(
      'event-record.schema.json',
      EventRecord,
      simulations.flatMap((sim) => sim.records),
    );
    for (const event of simulations.flatMap((sim) => sim.log)) {
      expect(validators.validate(`events/${event.type}.schema.json`, event).valid).toBe(true);
      expect(validators.validate('execution-event.schema.json', event).valid).toBe(true);
    }
  });

  it('accepts every DispatchTask and TaskOutcome (with usage and retryable: false)', () => {
    expectAccepted(
      'dispatch-task.schema.json',
      DispatchTask,
      simulations.flatMap((sim) => sim.dispatches),
    );
    const outcomes = simulations.flatMap((sim) => sim.outcomes);
    expect(outcomes.some((o) => o.status === 'failed' && o.error.retryable === false && o.usage)).toBe(true);
    expectAccepted('task-outcome.schema.json', TaskOutcome, outcomes);
  });

  it('accepts execution_results at every step, running and final', () => {
    const results = simulations.flatMap((sim) => sim.results);
    expect(new Set(results.map((r) => r.status))).toEqual(
      new Set(['running', 'partial', 'failed', 'cancelled', 'rejected']),
    );
    expectAccepted('execution-results.schema.json', ExecutionResults, results);
  });

  it('accepts the plan of every ExecutionStarted, as stored (defaults filled in)', () => {
    const plans = simulations.flatMap((sim) => sim.eventsOf('ExecutionStarted').map((event) => event.plan));
    for (const stored of plans) expect(validators.validate('plan.schema.json', stored).valid).toBe(true);
  });
});
