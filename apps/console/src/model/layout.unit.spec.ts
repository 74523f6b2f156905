import { fold } from '@orchestra/execution';
import { onePhase, phase, plan, Simulation, task } from '@orchestra/testing';
import { planGraph } from './graph.js';
import { type Box, layoutGraph } from './layout.js';

function graphOf(input: Parameters<Simulation['execute']>[0]) {
  const sim = new Simulation();
  sim.execute(input);
  const state = fold(sim.log);
  if (!state.plan || !state.index) throw new Error(`not started: ${JSON.stringify(sim.log)}`);
  return planGraph(state.plan, state.index);
}

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('the plan graph and its layout', () => {
  const input = plan([
    phase(
      'one',
      [task('a'), task('b', { input_context: { v: '${one.a.output}' } }), task('c', { depends_on: ['a'] })],
      {
        execution_mode: 'sequential',
      },
    ),
    phase('two', [task('d', { input_context: { v: '${one.c.output.x}' } }), task('e')], {
      depends_on_phases: ['one'],
      execution_mode: 'sequential',
    }),
  ]);

  it('has every kind of edge: phases, depends_on, sequence and references across phases', () => {
    const graph = graphOf(input);
    expect(graph.phase_edges).toEqual([{ from: 'one', to: 'two' }]);
    expect(graph.task_edges).toEqual(
      expect.arrayContaining([
        { from: 'a', to: 'b', kind: 'reference', cross_phase: false },
        { from: 'a', to: 'c', kind: 'depends_on', cross_phase: false },
        { from: 'b', to: 'c', kind: 'sequence', cross_phase: false },
        { from: 'c', to: 'd', kind: 'reference', cross_phase: true },
        { from: 'd', to: 'e', kind: 'sequence', cross_phase: false },
      ]),
    );
    expect(graph.task_edges).toHaveLength(5);
  });

  it('places each task inside its phase, phases left to right, nothing overlapping', () => {
    const graph = graphOf(input);
    const layout = layoutGraph(graph);
    const one = layout.phases.one as Box;
    const two = layout.phases.two as Box;
    expect(two.x).toBeGreaterThan(one.x + one.width);
    for (const phase of graph.phases) {
      const frame = layout.phases[phase.phase_id] as Box;
      for (const id of phase.task_ids) {
        const box = layout.tasks[id] as Box;
        expect(box.x).toBeGreaterThanOrEqual(frame.x);
        expect(box.y).toBeGreaterThan(frame.y);
        expect(box.x + box.width).toBeLessThanOrEqual(frame.x + frame.width);
        expect(box.y + box.height).toBeLessThanOrEqual(frame.y + frame.height);
      }
    }
    const boxes = Object.values(layout.tasks);
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) expect(overlap(a, b)).toBe(false);
    expect(layout.edges.filter((edge) => edge.points.length < 2)).toEqual([]);
  });

  it('lays out 2,000 independent tasks as a grid, quickly', () => {
    const wide = onePhase(Array.from({ length: 2_000 }, (_, i) => task(`t${i}`)));
    const graph = graphOf(wide);
    const started = performance.now();
    const layout = layoutGraph(graph);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(Object.keys(layout.tasks)).toHaveLength(2_000);
    // Roughly as wide as tall, not one endless column.
    expect(layout.width / layout.height).toBeGreaterThan(0.5);
    expect(layout.width / layout.height).toBeLessThan(2);
  });

  it('lays out a long sequential phase on a grid too, in order', () => {
    const chain = onePhase(
      Array.from({ length: 600 }, (_, i) => task(`s${i}`)),
      { execution_mode: 'sequential' },
    );
    const layout = layoutGraph(graphOf(chain));
    const first = layout.tasks.s0 as Box;
    const second = layout.tasks.s1 as Box;
    expect(second.x).toBeGreaterThan(first.x);
    expect(layout.width).toBeLessThan(20_000);
  });
});
