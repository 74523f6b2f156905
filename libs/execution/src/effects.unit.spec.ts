// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { onePhase, phase, plan, Simulation, task } from '@orchestra/testing';
import { effectsOf, inFlightEffects } from './effects.js';

describe('the effects of a decision', () => {
  it('dispatch each attempt with its resolved input, output key, deadline, and set its deadline timer', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('a')]),
        phase(
          'p2',
          [
            task('b', {
              description: 'Summarise',
              assigned_plugin: 'writer@cowork',
              entry_point: { type: 'skill', value: 'summarise' },
              input_context: { text: '${p1.a.output.text}', n: 3 },
              output_key: 'summary',
              timeout_ms: 500,
            }),
          ],
          { depends_on_phases: ['p1'] },
        ),
      ]),
    );
    sim.now += 10;
    const decision = sim.succeed('a', { text: 'hello' });
    expect(effectsOf(decision.state, decision.events)).toEqual([
      {
        kind: 'dispatch',
        command: {
          type: 'DispatchTask',
          execution_id: 'exec-1',
          plan_id: 'plan-1',
          phase_id: 'p2',
          task_id: 'b',
          attempt_number: 1,
          plugin: 'writer@cowork',
          description: 'Summarise',
          entry_point: { type: 'skill', value: 'summarise' },
          input_context: { text: 'hello', n: 3 },
          output_key: 'summary',
          dispatched_at: sim.now,
          deadline_at: sim.now + 500,
        },
      },
      {
        kind: 'timer',
        timer: {
          type: 'Timer',
          kind: 'deadline',
          execution_id: 'exec-1',
          task_id: 'b',
          attempt_number: 1,
          // The deadline (sim.now + 500 = 1,000,510) rounded up to a tenth of the timeout.
          due_at: 1_000_550,
        },
      },
    ]);
  });

  it('use the task id as output key by default', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a')]));
    expect(sim.dispatchOf('a')).toMatchObject({
      output_key: 'a',
      description: '',
      deadline_at: sim.now + 60_000,
    });
  });

  it('set a retry timer for a scheduled retry', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase([task('a', { retries: 1, backoff: { initial_ms: 30, multiplier: 2, max_ms: 100 } })]),
    );
    const decision = sim.fail('a');
    expect(effectsOf(decision.state, decision.events)).toEqual([
      {
        kind: 'timer',
        timer: {
          type: 'Timer',
          kind: 'retry',
          execution_id: 'exec-1',
          task_id: 'a',
          attempt_number: 2,
          due_at: sim.now + 30,
        },
      },
    ]);
  });

  it('leave out the dispatch of a task skipped later in the same decision', () => {
    const sim = new Simulation();
    sim.execute(
      onePhase(
        [
          task('c', { retries: 1, backoff: { initial_ms: 100, multiplier: 1, max_ms: 100 } }),
          task('a', { timeout_ms: 1_000 }),
        ],
        { on_partial_failure: 'abort' },
      ),
    );
    sim.fail('c');
    sim.now += 1_000;
    // The deadline of `a` fires after the retry of `c` is due: the same decision dispatches the
    // retry, then gives `a` up, which aborts the run and skips `c` again.
    const decision = sim.input({ kind: 'timer', timer: sim.timerOf('deadline', 'a') });
    expect(decision.events.map((e) => [e.type, 'task_id' in e ? e.task_id : ''])).toEqual([
      ['TaskTimedOut', 'a'],
      ['TaskDispatched', 'c'],
      ['TaskGaveUp', 'a'],
      ['TaskSkipped', 'c'],
      ['PhaseFinished', ''],
      ['ExecutionFinished', ''],
    ]);
    expect(effectsOf(decision.state, decision.events)).toEqual([
      { kind: 'cancel-notice', execution_id: 'exec-1' },
    ]);
  });

  it('include a cancel notice for a cancel', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a')]));
    const decision = sim.cancel();
    expect(effectsOf(decision.state, decision.events)).toEqual([
      { kind: 'cancel-notice', execution_id: 'exec-1' },
    ]);
  });
});

describe('inFlightEffects', () => {
  it('lists the dispatch and deadline of every running attempt and the timer of every waiting retry', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('a', { retries: 1 }), task('b'), task('c'), task('d', { depends_on: ['c'] })]),
        phase('p2', [task('e')], { depends_on_phases: ['p1'] }),
      ]),
    );
    sim.fail('a');
    sim.succeed('c');
    const effects = inFlightEffects(sim.state);
    expect(
      effects.map((e) =>
        e.kind === 'dispatch'
          ? ['dispatch', e.command.task_id]
          : [
              e.kind,
              e.kind === 'timer' ? `${e.timer.kind} ${e.timer.task_id} ${e.timer.attempt_number}` : '',
            ],
      ),
    ).toEqual([
      ['timer', 'retry a 2'],
      ['dispatch', 'b'],
      ['dispatch', 'd'],
      // b and d were dispatched at the same time with the same timeout: one deadline timer.
      ['timer', 'deadline b 1'],
    ]);
    expect(effects).toContainEqual({ kind: 'dispatch', command: sim.dispatchOf('b') });
    expect(effects).toContainEqual({ kind: 'timer', timer: sim.timerOf('retry', 'a') });
  });

  it('is empty once the execution has finished', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b')]));
    sim.cancel();
    expect(inFlightEffects(sim.state)).toEqual([]);
  });
});
