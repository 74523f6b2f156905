import { onePhase, phase, plan, Simulation, task } from '@orchestra/testing';

function started(sim: Simulation, kind: 'PhaseStarted' | 'PhaseFinished' = 'PhaseStarted'): string[] {
  return sim.eventsOf(kind).map((event) => event.phase_id);
}

describe('phases', () => {
  it('start when every phase in their depends_on_phases has finished, phases without dependencies at once', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('a')]),
        phase('p2', [task('b')], { depends_on_phases: ['p1', 'p3'] }),
        phase('p3', [task('c')]),
      ]),
    );
    expect(started(sim)).toEqual(['p1', 'p3']);
    expect(sim.dispatchedTasks()).toEqual(['a', 'c']);

    sim.succeed('a');
    expect(started(sim)).toEqual(['p1', 'p3']);
    expect(started(sim, 'PhaseFinished')).toEqual(['p1']);

    sim.succeed('c');
    expect(started(sim)).toEqual(['p1', 'p3', 'p2']);
    expect(sim.dispatchedTasks()).toEqual(['a', 'c', 'b']);
  });

  it('start after an upstream phase that ended partial, under continue', () => {
    const sim = new Simulation();
    sim.execute(plan([phase('p1', [task('a')]), phase('p2', [task('b')], { depends_on_phases: ['p1'] })]));
    sim.fail('a');
    expect(sim.eventsOf('PhaseFinished')[0]).toMatchObject({ phase_id: 'p1', status: 'partial' });
    expect(sim.dispatchedTasks()).toEqual(['a', 'b']);
  });

  it('finish completed, and the execution completed, when every task succeeded', () => {
    const sim = new Simulation();
    sim.execute(plan([phase('p1', [task('a')]), phase('p2', [task('b')], { depends_on_phases: ['p1'] })]));
    sim.succeed('a');
    sim.succeed('b');
    expect(sim.types()).toEqual([
      'ExecutionStarted',
      'PhaseStarted',
      'TaskDispatched',
      'TaskSucceeded',
      'PhaseFinished',
      'PhaseStarted',
      'TaskDispatched',
      'TaskSucceeded',
      'PhaseFinished',
      'ExecutionFinished',
    ]);
    expect(sim.eventsOf('PhaseFinished').map((event) => event.status)).toEqual(['completed', 'completed']);
    expect(sim.eventsOf('ExecutionFinished')[0]?.status).toBe('completed');
  });
});

describe('a parallel phase', () => {
  it('dispatches every ready task in the same decision', () => {
    const sim = new Simulation();
    const decision = sim.execute(onePhase([task('a'), task('b'), task('c')]));
    expect(decision.events.filter((e) => e.type === 'TaskDispatched').map((e) => e.task_id)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('is the default execution mode', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b')]));
    expect(sim.dispatchedTasks()).toEqual(['a', 'b']);
  });

  it('finishes only when its last task has ended', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b')]));
    sim.succeed('b');
    expect(sim.eventsOf('PhaseFinished')).toEqual([]);
    sim.succeed('a');
    expect(sim.eventsOf('PhaseFinished')).toHaveLength(1);
  });
});

describe('a sequential phase', () => {
  const sequential = { execution_mode: 'sequential' } as const;

  it('runs one task at a time, in listed order', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('c'), task('a'), task('b')], sequential));
    expect(sim.dispatchedTasks()).toEqual(['c']);
    sim.succeed('c');
    expect(sim.dispatchedTasks()).toEqual(['c', 'a']);
    sim.succeed('a');
    expect(sim.dispatchedTasks()).toEqual(['c', 'a', 'b']);
    sim.succeed('b');
    expect(sim.state.result).toBe('completed');
  });

  it('does not start the next task while the current one waits for a retry', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a', { retries: 1 }), task('b')], sequential));
    sim.fail('a');
    expect(sim.state.tasks.a?.status).toBe('retry_wait');
    expect(sim.dispatchedTasks()).toEqual(['a']);
  });

  it('still runs the next task after a skipped one', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b')], sequential));
    sim.fail('a');
    expect(sim.state.tasks.a?.status).toBe('skipped');
    expect(sim.dispatchedTasks()).toEqual(['a', 'b']);
  });
});

describe('depends_on within a phase', () => {
  it('holds a task back until the tasks it depends on have succeeded', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b', { depends_on: ['a', 'c'] }), task('c')]));
    expect(sim.dispatchedTasks()).toEqual(['a', 'c']);
    sim.succeed('a');
    expect(sim.dispatchedTasks()).toEqual(['a', 'c']);
    sim.succeed('c');
    expect(sim.dispatchedTasks()).toEqual(['a', 'c', 'b']);
  });

  it('skips a task whose dependency did not succeed, naming the dependency', () => {
    const sim = new Simulation();
    sim.execute(onePhase([task('a'), task('b', { depends_on: ['a'] }), task('c', { depends_on: ['b'] })]));
    sim.fail('a', 'no data');
    expect(sim.eventsOf('TaskSkipped').map(({ task_id, reason }) => ({ task_id, reason }))).toEqual([
      { task_id: 'a', reason: 'gave up after 1 attempt: no data' },
      { task_id: 'b', reason: 'dependency "a" did not succeed (skipped)' },
      { task_id: 'c', reason: 'dependency "b" did not succeed (skipped)' },
    ]);
    expect(sim.state.tasks.b?.error).toBe('dependency "a" did not succeed (skipped)');
    expect(sim.state.result).toBe('partial');
  });
});
