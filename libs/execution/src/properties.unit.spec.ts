import {
  type DispatchTask,
  ExecutionEvent,
  ExecutionResults,
  FinalTaskStatus,
  type Plan,
  type PlanInput,
  type TaskOutcome,
  validatePlan,
} from '@orchestra/contracts';
import { type Answer, maxAttempts, outcomeOf, planArbitrary, Simulation } from '@orchestra/testing';
import fc from 'fast-check';
import { fold } from './evolve.js';
import { backoffDelay } from './failure-policy.js';
import { toExecutionResults } from './projections.js';

/**
 * The world is a script of random numbers read one per move; once it runs out, every move is a
 * plain step and every answer a success, so a run always ends. Per move: a duplicate delivery of
 * an outcome already sent, a late answer to a dispatch left unanswered, a cancel (rarely), or a
 * step of the simulation (answer the oldest dispatch, else fire the earliest timer) after moving
 * the clock a little.
 */
const worldArbitrary = fc.array(fc.nat({ max: 199 }), { minLength: 10, maxLength: 150, size: 'max' });

interface Run {
  sim: Simulation;
  plan: Plan;
  steps: number;
  bound: number;
  cancelSent: boolean;
}

function drive(planInput: PlanInput, script: readonly number[]): Run {
  const validation = validatePlan(planInput);
  if (!validation.ok) throw new Error(`generated an invalid plan: ${JSON.stringify(validation.issues)}`);
  const plan = validation.plan;
  const tasks = plan.phases.flatMap((phase) => phase.tasks);
  const bound = script.length + 3 * tasks.reduce((sum, spec) => sum + maxAttempts(spec), 0) + 1;
  const sim = new Simulation();
  let cursor = 0;
  const next = (): number | undefined => script[cursor++];
  const sent: TaskOutcome[] = [];
  const unanswered: DispatchTask[] = [];
  let cancelSent = false;

  const answerOf = (command: DispatchTask, r = next()): Answer => {
    // Some attempts called a model and report their tokens, whatever their end.
    const usage =
      r !== undefined && r % 3 === 0 ? { usage: { model: 'm', input_tokens: r, output_tokens: r % 7 } } : {};
    if (r === undefined || r % 20 < 12) {
      const output =
        r !== undefined && r % 20 === 11
          ? null
          : { n: command.attempt_number, list: [command.task_id, r ?? 0] };
      return { kind: 'succeed', output, ...usage };
    }
    if (r % 20 === 16) return { kind: 'fail', message: `refused ${r}`, retryable: false, ...usage };
    return r % 20 < 16 ? { kind: 'fail', message: `failed ${r}`, ...usage } : { kind: 'silent' };
  };
  const world = (command: DispatchTask): Answer => {
    const answer = answerOf(command);
    if (answer.kind === 'silent') unanswered.push(command);
    else sent.push(outcomeOf(command, answer, sim.now));
    return answer;
  };

  sim.execute(planInput);
  let steps = 0;
  for (; steps <= bound; steps += 1) {
    const r = next();
    if (r !== undefined && r < 10 && sent.length > 0) {
      sim.outcome(sent[r % sent.length] as TaskOutcome);
    } else if (r !== undefined && r < 25 && unanswered.length > 0) {
      const [late] = unanswered.splice(r % unanswered.length, 1) as [DispatchTask];
      const answer = answerOf(late, next());
      if (answer.kind !== 'silent') sim.outcome(outcomeOf(late, answer, sim.now));
    } else if (r === 25) {
      cancelSent ||= sim.state.status === 'running';
      sim.cancel('chaos');
    } else {
      sim.now += ((r ?? 0) % 7) * 10;
      if (!sim.step(world)) break;
    }
  }
  return { sim, plan, steps, bound, cancelSent };
}

const NUM_RUNS = 200;
const property = (check: (run: Run) => void) =>
  fc.assert(
    fc.property(planArbitrary, worldArbitrary, (planInput, script) => check(drive(planInput, script))),
    { numRuns: NUM_RUNS },
  );

const TERMINAL_EVENTS = new Set(['TaskSucceeded', 'TaskSkipped', 'TaskGaveUp']);

describe('for any valid plan and any world', () => {
  it('the execution terminates within a bounded number of steps, with one ExecutionFinished, last', () => {
    property(({ sim, steps, bound }) => {
      expect(steps).toBeLessThanOrEqual(bound);
      expect(sim.state.status).toBe('finished');
      expect(sim.eventsOf('ExecutionFinished')).toHaveLength(1);
      expect(sim.types().at(-1)).toBe('ExecutionFinished');
    });
  });

  it('every task ends in exactly one terminal status, with one terminal event', () => {
    property(({ sim, plan }) => {
      const results = toExecutionResults(sim.state);
      for (const phase of results.phases) {
        for (const task of phase.tasks) expect(FinalTaskStatus.options).toContain(task.status);
      }
      for (const task of plan.phases.flatMap((phase) => phase.tasks)) {
        const terminal = sim.log.filter(
          (e) => TERMINAL_EVENTS.has(e.type) && 'task_id' in e && e.task_id === task.task_id,
        );
        expect(terminal).toHaveLength(1);
      }
    });
  });

  it('the summary adds up to total_tasks, the number of tasks in the plan', () => {
    property(({ sim, plan }) => {
      const { summary } = toExecutionResults(sim.state);
      expect(summary.total_tasks).toBe(plan.phases.reduce((sum, phase) => sum + phase.tasks.length, 0));
      expect(summary.successful + summary.failed + summary.skipped + summary.timeout).toBe(
        summary.total_tasks,
      );
    });
  });

  it('folding the log again gives the same state and the same results', () => {
    property(({ sim }) => {
      const refolded = fold(sim.log);
      expect(refolded).toEqual(sim.state);
      expect(toExecutionResults(refolded)).toEqual(toExecutionResults(sim.state));
    });
  });

  it('every event and the results conform to the published schemas', () => {
    property(({ sim }) => {
      for (const event of sim.log) expect(ExecutionEvent.safeParse(event).error).toBeUndefined();
      expect(ExecutionResults.safeParse(toExecutionResults(sim.state)).error).toBeUndefined();
    });
  });

  it('the same plan and world give the same log', () => {
    fc.assert(
      fc.property(planArbitrary, worldArbitrary, (planInput, script) => {
        expect(drive(planInput, script).sim.log).toEqual(drive(planInput, script).sim.log);
      }),
      { numRuns: NUM_RUNS / 2 },
    );
  });

  it('the status is completed iff every task succeeded, failed only under abort, cancelled only after a cancel', () => {
    property(({ sim, plan, cancelSent }) => {
      const { status } = toExecutionResults(sim.state);
      const tasks = Object.values(sim.state.tasks);
      const cancelled = sim.eventsOf('ExecutionCancelled').length > 0;
      const gaveUp = sim.eventsOf('TaskGaveUp');
      expect(status === 'completed').toBe(tasks.every((task) => task.status === 'success'));
      expect(status === 'cancelled').toBe(cancelled);
      if (cancelled) expect(cancelSent).toBe(true);
      expect(status === 'failed').toBe(!cancelled && gaveUp.length > 0);
      for (const event of gaveUp) {
        const phase = plan.phases.find((p) => p.phase_id === event.phase_id);
        expect(phase?.on_partial_failure ?? plan.on_partial_failure).toBe('abort');
      }
      if (status === 'partial') expect(tasks.some((task) => task.status === 'skipped')).toBe(true);
    });
  });

  it('attempt numbers count 1, 2, … and never exceed 1 + retries + (fallback ? 1 : 0)', () => {
    property(({ sim, plan }) => {
      for (const spec of plan.phases.flatMap((phase) => phase.tasks)) {
        const dispatches = sim.eventsOf('TaskDispatched').filter((e) => e.task_id === spec.task_id);
        expect(dispatches.map((e) => e.attempt_number)).toEqual(dispatches.map((_, i) => i + 1));
        expect(dispatches.length).toBeLessThanOrEqual(maxAttempts(spec));
        for (const e of dispatches) {
          // The fallback is the last attempt, and only a plan with a fallback plugin has one.
          const isFallback = e.kind === 'fallback';
          if (isFallback) expect(e).toBe(dispatches.at(-1));
          expect([e.kind, e.plugin]).toEqual(
            isFallback
              ? ['fallback', spec.fallback_plugin]
              : [e.attempt_number === 1 ? 'first' : 'retry', 'worker'],
          );
        }
        expect(sim.state.tasks[spec.task_id]?.attempt_number).toBe(dispatches.length);
      }
    });
  });

  it('a failure the plugin marks non-retryable is never retried on the same plugin', () => {
    property(({ sim }) => {
      sim.log.forEach((event, at) => {
        if (event.type !== 'TaskFailed' || event.retryable !== false) return;
        const next = sim.log
          .slice(at + 1)
          .find((later) => 'task_id' in later && later.task_id === event.task_id);
        expect(next?.type).not.toBe('TaskRetryScheduled');
        if (next?.type === 'TaskDispatched') expect(next.kind).toBe('fallback');
      });
    });
  });

  it("the results' tokens are those every attempt reported, per task and in the summary", () => {
    property(({ sim }) => {
      const results = toExecutionResults(sim.state);
      const reported = sim.log.flatMap((event) =>
        (event.type === 'TaskSucceeded' || event.type === 'TaskFailed') && event.usage ? [event.usage] : [],
      );
      const sum = (key: 'input_tokens' | 'output_tokens') =>
        reported.reduce((total, usage) => total + usage[key], 0);
      if (reported.length === 0) expect(results.summary.usage).toBeUndefined();
      else
        expect(results.summary.usage).toEqual({
          input_tokens: sum('input_tokens'),
          output_tokens: sum('output_tokens'),
        });
      const tasks = results.phases.flatMap((phase) => phase.tasks);
      expect(tasks.flatMap((task) => task.attempts.flatMap((a) => (a.usage ? [a.usage] : [])))).toHaveLength(
        reported.length,
      );
    });
  });

  it('retries wait for their backoff and timeouts for their deadline', () => {
    property(({ sim, plan }) => {
      for (const spec of plan.phases.flatMap((phase) => phase.tasks)) {
        const events = sim.log.filter((e) => 'task_id' in e && e.task_id === spec.task_id);
        let deadline = Number.NaN;
        let due = Number.NaN;
        for (const e of events) {
          if (e.type === 'TaskDispatched') {
            if (e.kind === 'retry') expect(e.at).toBeGreaterThanOrEqual(due);
            deadline = e.deadline_at;
            expect(deadline).toBe(e.at + spec.timeout_ms);
          } else if (e.type === 'TaskTimedOut') expect(e.at).toBeGreaterThanOrEqual(deadline);
          else if (e.type === 'TaskRetryScheduled') {
            expect(e.delay_ms).toBe(backoffDelay(spec.backoff, e.next_attempt_number - 1));
            expect(e.due_at).toBe(e.at + e.delay_ms);
            due = e.due_at;
          }
        }
      }
    });
  });
});
