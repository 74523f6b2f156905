// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose
import type { JsonValue } from '@orchestra/contracts';
import { phase, plan, Simulation, task } from '@orchestra/testing';
import { resolveInput } from './resolve.js';

/** p1.src produces `output`; p2.use runs with `input_context` and its dispatch is returned. */
function resolved(input_context: Record<string, JsonValue>, output: JsonValue) {
  const sim = new Simulation();
  sim.execute(
    plan([
      phase('p1', [task('src')]),
      phase('p2', [task('use', { input_context })], { depends_on_phases: ['p1'] }),
    ]),
  );
  sim.succeed('src', output);
  return sim;
}

const OUTPUT = { revenue: 42, name: 'ACME', rows: [{ id: 7 }, { id: 8 }], nested: { deep: { flag: true } } };

describe('reference resolution', () => {
  it('gives a string that is exactly one reference the referenced value as is', () => {
    const sim = resolved(
      { all: '${p1.src.output}', revenue: '${p1.src.output.revenue}', rows: '${p1.src.output.rows}' },
      OUTPUT,
    );
    expect(sim.dispatchOf('use').input_context).toEqual({ all: OUTPUT, revenue: 42, rows: OUTPUT.rows });
  });

  it('inserts a string value as is inside a longer string, and any other value as its JSON text', () => {
    const sim = resolved(
      {
        text: 'rev=${p1.src.output.revenue}, name=${p1.src.output.name}, rows=${p1.src.output.rows}',
        flag: 'on=${p1.src.output.nested.deep.flag}',
      },
      OUTPUT,
    );
    expect(sim.dispatchOf('use').input_context).toEqual({
      text: 'rev=42, name=ACME, rows=[{"id":7},{"id":8}]',
      flag: 'on=true',
    });
  });

  it('inserts a string holding quotes or a reference-like text literally, evaluating nothing', () => {
    const sim = resolved({ text: 'said: ${p1.src.output.quote}' }, { quote: 'a "b" ${p1.src.output}' });
    expect(sim.dispatchOf('use').input_context).toEqual({ text: 'said: a "b" ${p1.src.output}' });
  });

  it('follows nested paths and array indexes, in nested objects and arrays of the input', () => {
    const sim = resolved(
      { deep: { list: ['${p1.src.output.rows.1.id}', '${p1.src.output.nested.deep.flag}'], fixed: 3 } },
      OUTPUT,
    );
    expect(sim.dispatchOf('use').input_context).toEqual({ deep: { list: [8, true], fixed: 3 } });
  });

  it('leaves strings without references untouched', () => {
    const sim = resolved({ plain: 'no $ref {here}', n: null }, OUTPUT);
    expect(sim.dispatchOf('use').input_context).toEqual({ plain: 'no $ref {here}', n: null });
  });

  it.each([
    ['a missing key', '${p1.src.output.cost}', 'reference ${p1.src.output.cost}: output has no "cost"'],
    [
      'an index past the end',
      '${p1.src.output.rows.5}',
      'reference ${p1.src.output.rows.5}: output.rows has no "5"',
    ],
    [
      'a key into an array',
      '${p1.src.output.rows.id}',
      'reference ${p1.src.output.rows.id}: output.rows has no "id"',
    ],
    [
      'a key into a number',
      'x${p1.src.output.revenue.x}',
      'reference ${p1.src.output.revenue.x}: output.revenue has no "x"',
    ],
    [
      'an inherited key',
      '${p1.src.output.toString}',
      'reference ${p1.src.output.toString}: output has no "toString"',
    ],
  ])('skips the task when a path names %s, with a reason naming the path', (_what, reference, reason) => {
    const sim = resolved({ value: reference }, OUTPUT);
    expect(sim.dispatchedTasks()).toEqual(['src']);
    expect(sim.eventsOf('TaskSkipped')).toEqual([expect.objectContaining({ task_id: 'use', reason })]);
    expect(sim.state.tasks.use?.error).toBe(reason);
    expect(sim.state.result).toBe('partial');
  });

  it('takes a null output as is rather than as a missing one', () => {
    const sim = resolved({ value: '${p1.src.output}' }, null);
    expect(sim.dispatchOf('use').input_context).toEqual({ value: null });
  });

  it('skips a task whose referenced task did not succeed, with a reason naming it', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('src'), task('other')]),
        phase('p2', [task('use', { input_context: { v: '${p1.src.output}' } })], {
          depends_on_phases: ['p1'],
        }),
      ]),
    );
    sim.fail('src');
    sim.succeed('other');
    expect(sim.eventsOf('TaskSkipped').at(-1)).toMatchObject({
      task_id: 'use',
      reason: 'dependency "src" did not succeed (skipped)',
    });
  });

  it('waits, in a parallel phase, for a referenced depends_on task', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('b', { depends_on: ['a'], input_context: { v: '${p1.a.output.n}' } }), task('a')]),
      ]),
    );
    expect(sim.dispatchedTasks()).toEqual(['a']);
    sim.succeed('a', { n: 1 });
    expect(sim.dispatchOf('b').input_context).toEqual({ v: 1 });
  });
});

describe('reference resolution and prototypes', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keeps a "__proto__" key of an output as plain data', () => {
    const output = JSON.parse('{"__proto__": {"polluted": true}, "safe": 1}') as JsonValue;
    const sim = resolved(
      { all: '${p1.src.output}', text: 'x ${p1.src.output}', safe: '${p1.src.output.safe}' },
      output,
    );
    const input = sim.dispatchOf('use').input_context;
    expect(input.safe).toBe(1);
    expect(input.text).toBe('x {"__proto__":{"polluted":true},"safe":1}');
    expect(Object.getPrototypeOf(input.all)).toBe(Object.prototype);
    expect(Object.hasOwn(input.all as object, '__proto__')).toBe(true);
  });

  it('does not reach through a "__proto__" key of an output to its contents', () => {
    const output = JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue;
    const sim = resolved({ v: '${p1.src.output.polluted}' }, output);
    expect(sim.eventsOf('TaskSkipped')[0]?.reason).toBe(
      'reference ${p1.src.output.polluted}: output has no "polluted"',
    );
  });

  it('keeps a "__proto__" key of the input context as plain data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "${p1.src.output.n}"}, "n": "${p1.src.output.n}"}');
    const resolution = resolveInput(input, () => ({ n: 5 }));
    expect(resolution.ok).toBe(true);
    if (!resolution.ok) return;
    expect(Object.getPrototypeOf(resolution.value)).toBe(Object.prototype);
    expect(JSON.stringify(resolution.value)).toBe('{"__proto__":{"polluted":5},"n":5}');
  });

  it('rejects a plan whose reference path uses a prototype key', () => {
    const sim = new Simulation();
    sim.execute(
      plan([
        phase('p1', [task('src')]),
        phase('p2', [task('use', { input_context: { v: '${p1.src.output.constructor}' } })], {
          depends_on_phases: ['p1'],
        }),
      ]),
    );
    expect(sim.types()).toEqual(['ExecutionRejected']);
    expect(sim.eventsOf('ExecutionRejected')[0]?.issues[0]?.message).toMatch(
      /may not use the segment "constructor"/,
    );
  });
});
