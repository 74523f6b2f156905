import { validatePlan } from '@orchestra/contracts';
import {
  phase,
  plan,
  planArbitrary,
  rerunSourceOf,
  Simulation,
  specFor,
  task,
  type World,
} from '@orchestra/testing';
import fc from 'fast-check';
import { toExecutionResults } from './projections.js';

const ref = (path: string) => `\${${path}.output}`;

/** p1: a, b; p2 (after p1): c uses a's output, d uses b's. */
const twoPhases = plan([
  phase('p1', [task('a'), task('b')]),
  phase(
    'p2',
    [task('c', { input_context: { x: ref('p1.a') } }), task('d', { input_context: { y: ref('p1.b') } })],
    {
      depends_on_phases: ['p1'],
    },
  ),
]);

function finishedSource(failing: string[] = []): Simulation {
  const source = new Simulation('src-1');
  source.execute(twoPhases);
  source.run((command) =>
    failing.includes(command.task_id)
      ? { kind: 'fail', message: `${command.task_id} broke` }
      : { kind: 'succeed', output: { from: command.task_id } },
  );
  return source;
}

const seqOf = (source: Simulation, task_id: string) =>
  source.log.findIndex((e) => e.type === 'TaskSucceeded' && e.task_id === task_id) + 1;

describe('a re-run of a completed execution with nothing selected', () => {
  it('reuses every task, dispatches nothing, and ends completed with identical outputs', () => {
    const source = finishedSource();
    const s = specFor(twoPhases, 'rerun-1');
    const reused = (phase_id: string, task_id: string) => ({
      type: 'TaskReused' as const,
      phase_id,
      task_id,
      source_execution_id: 'src-1',
      source_seq: seqOf(source, task_id),
      plugin_used: 'worker',
      attempt_number: 1,
      output: { from: task_id },
      duration_ms: 5,
    });
    const { decision } = s
      .given()
      .when({ kind: 'rerun', execution_id: 'rerun-1', source: rerunSourceOf(source) });
    expect(decision.events).toEqual(
      [
        { ...s.started(), rerun_of: 'src-1' },
        reused('p1', 'a'),
        reused('p1', 'b'),
        reused('p2', 'c'),
        reused('p2', 'd'),
        s.phaseStarted('p1'),
        s.phaseFinished('p1', 'completed'),
        s.phaseStarted('p2'),
        s.phaseFinished('p2', 'completed'),
        s.finished('completed'),
      ].map((event) => ({ ...event, execution_id: 'rerun-1', at: 1_000_000 })),
    );
    const before = toExecutionResults(source.state);
    const after = toExecutionResults(decision.state);
    expect(after.rerun_of).toBe('src-1');
    const outputs = (results: typeof before) =>
      results.phases.flatMap((p) => p.tasks.map((t) => [t.task_id, t.output]));
    expect(outputs(after)).toEqual(outputs(before));
    expect(after.phases[0]?.tasks[0]).toMatchObject({
      status: 'success',
      attempts: [],
      reused_from: { execution_id: 'src-1', seq: seqOf(source, 'a') },
    });
  });
});

describe('a re-run of a partial execution', () => {
  it('runs again the failed task and what depends on it, and reuses the rest', () => {
    const source = finishedSource(['b']);
    expect(source.state.result).toBe('partial');
    const rerun = new Simulation('rerun-2');
    rerun.rerun(source);
    expect(rerun.eventsOf('TaskReused').map((e) => e.task_id)).toEqual(['a', 'c']);
    expect(rerun.dispatchedTasks()).toEqual(['b']);
    rerun.succeed('b', { fixed: true });
    expect(rerun.dispatchedTasks()).toEqual(['b', 'd']);
    expect(rerun.dispatchOf('d').input_context).toEqual({ y: { fixed: true } });
    rerun.succeed('d');
    expect(rerun.state.result).toBe('completed');
  });

  it('runs again a selected task that succeeded, with its dependants', () => {
    const rerun = new Simulation('rerun-3');
    rerun.rerun(finishedSource(), { tasks: ['p1.a'] });
    expect(rerun.eventsOf('TaskReused').map((e) => e.task_id)).toEqual(['b', 'd']);
    expect(rerun.dispatchedTasks()).toEqual(['a']);
  });

  it('runs again a task whose definition the corrected plan changed', () => {
    const corrected: typeof twoPhases = JSON.parse(JSON.stringify(twoPhases));
    const d = corrected.phases[1]?.tasks[1];
    if (d) d.description = 'now with a description';
    const rerun = new Simulation('rerun-4');
    rerun.rerun(finishedSource(), { plan: corrected });
    expect(rerun.eventsOf('TaskReused').map((e) => e.task_id)).toEqual(['a', 'b', 'c']);
    expect(rerun.dispatchedTasks()).toEqual(['d']);
  });

  it('reuses a task whose corrected definition only lists the same keys in another order', () => {
    const withInput = (input_context: Record<string, unknown>) =>
      plan([phase('p1', [task('a', { input_context: input_context as never })])]);
    const source = new Simulation('src-keys');
    source.execute(withInput({ p: 1, q: { r: 2, s: 3 } }));
    source.run(() => ({ kind: 'succeed', output: 1 }));
    const rerun = new Simulation('rerun-keys');
    rerun.rerun(source, { plan: withInput({ q: { s: 3, r: 2 }, p: 1 }) });
    expect(rerun.eventsOf('TaskReused').map((e) => e.task_id)).toEqual(['a']);
    expect(rerun.dispatchedTasks()).toEqual([]);
  });
});

describe('a re-run that cannot start', () => {
  const rejection = (rerun: Simulation) => rerun.eventsOf('ExecutionRejected')[0];

  it('is rejected, naming the reason, when the source is still running or never ran', () => {
    const running = new Simulation('src-run');
    running.execute(twoPhases);
    const rerun = new Simulation('rerun-5');
    rerun.rerun(running);
    expect(rejection(rerun)?.reason).toBe(
      'execution "src-run" is still running: cancel it or wait for its end',
    );
    const ghost = new Simulation('rerun-6');
    ghost.rerun(new Simulation('nobody'));
    expect(rejection(ghost)?.reason).toMatch(/^execution "nobody" has no events/);
  });

  it('is rejected with every problem when the plan or the selection do not fit the source', () => {
    const other = plan([phase('p1', [task('a'), task('zz')]), phase('p2', [task('c'), task('d')])]);
    const rerun = new Simulation('rerun-7');
    rerun.rerun(finishedSource(), { plan: other, tasks: ['p2.a'] });
    expect(rejection(rerun)?.issues).toEqual([
      { path: 'tasks.zz', message: 'is not a task of the source execution' },
      { path: 'tasks.b', message: "is missing: a re-run keeps the source's task ids" },
      { path: 'tasks.p2.a', message: 'names no task of the plan (expected "<phase_id>.<task_id>")' },
    ]);
    expect(rerun.dispatchedTasks()).toEqual([]);
  });
});

describe('for any plan, world and selection', () => {
  const world =
    (seed: number): World =>
    (command) =>
      (command.task_id.length + command.attempt_number + seed) % 3 === 0
        ? { kind: 'fail', message: 'no' }
        : { kind: 'succeed', output: { n: 1, list: [command.task_id, seed] } };

  it('a re-run never dispatches a reused task, and one of a completed run with nothing selected dispatches nothing', () => {
    fc.assert(
      fc.property(planArbitrary, fc.nat(5), fc.array(fc.nat(), { maxLength: 3 }), (input, seed, picks) => {
        const validated = validatePlan(input);
        if (!validated.ok) throw new Error('invalid generated plan');
        const source = new Simulation('src');
        source.execute(input);
        source.run(world(seed));
        const paths = validated.plan.phases.flatMap((p) => p.tasks.map((t) => `${p.phase_id}.${t.task_id}`));
        const tasks = picks.map((n) => paths[n % paths.length] as string);
        const rerun = new Simulation('again');
        rerun.rerun(source, { tasks });
        rerun.run(() => ({ kind: 'succeed', output: { n: 2, list: ['x', 0] } }));
        const reused = new Set(rerun.eventsOf('TaskReused').map((e) => e.task_id));
        for (const dispatched of rerun.dispatchedTasks()) expect(reused.has(dispatched)).toBe(false);
        for (const id of reused) expect(source.state.tasks[id]?.status).toBe('success');
        expect(rerun.state.status).toBe('finished');
        if (source.state.result === 'completed' && tasks.length === 0) {
          expect(rerun.dispatches).toEqual([]);
          expect(toExecutionResults(rerun.state).phases).toEqual(
            toExecutionResults(source.state).phases.map((p) => ({
              ...p,
              tasks: p.tasks.map((t) => ({ ...t, attempts: [], reused_from: expect.any(Object) })),
            })),
          );
        }
      }),
      { numRuns: 150 },
    );
  });
});
