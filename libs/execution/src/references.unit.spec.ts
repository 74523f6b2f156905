// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose
import type { JsonObject, JsonValue } from '@orchestra/contracts';
import { phase, plan, specFor, task } from '@orchestra/testing';
import { resolveInput } from './resolve.js';

/** p1.src produces an output; p2.use runs with `input_context`, after p1. */
function twoPhases(input_context: Record<string, JsonValue>) {
  const s = specFor(
    plan([
      phase('p1', [task('src')]),
      phase('p2', [task('use', { input_context })], { depends_on_phases: ['p1'] }),
    ]),
  );
  return { s, running: [s.started(), s.phaseStarted('p1'), s.dispatched('src')] };
}

/** When src succeeds with `output`, p2 starts and `use` is dispatched with `expected` as its input. */
function resolved(input_context: Record<string, JsonValue>, output: JsonValue, expected: JsonObject) {
  const { s, running } = twoPhases(input_context);
  s.given(...running)
    .when(s.success('src', output))
    .then(
      s.succeeded('src', output),
      s.phaseFinished('p1', 'completed'),
      s.phaseStarted('p2'),
      s.dispatched('use', { input: expected }),
    );
}

/** When src succeeds with `output`, `use` cannot start: it is skipped with `reason`. */
function unresolved(input_context: Record<string, JsonValue>, output: JsonValue, reason: string) {
  const { s, running } = twoPhases(input_context);
  return s
    .given(...running)
    .when(s.success('src', output))
    .then(
      s.succeeded('src', output),
      s.phaseFinished('p1', 'completed'),
      s.phaseStarted('p2'),
      s.skipped('use', reason),
      s.phaseFinished('p2', 'partial'),
      s.finished('partial'),
    );
}

/** The input `use` is dispatched with once src succeeded with `output` (for checks toEqual cannot make). */
function dispatchedInput(input_context: Record<string, JsonValue>, output: JsonValue): JsonObject {
  const { s, running } = twoPhases(input_context);
  const { decision } = s.given(...running).when(s.success('src', output));
  const dispatch = decision.events.find((event) => event.type === 'TaskDispatched');
  if (!dispatch) throw new Error(`use was not dispatched: ${JSON.stringify(decision.events)}`);
  return dispatch.input_context;
}

const OUTPUT = { revenue: 42, name: 'ACME', rows: [{ id: 7 }, { id: 8 }], nested: { deep: { flag: true } } };

describe('reference resolution', () => {
  it('gives a string that is exactly one reference the referenced value as is', () => {
    resolved(
      { all: '${p1.src.output}', revenue: '${p1.src.output.revenue}', rows: '${p1.src.output.rows}' },
      OUTPUT,
      { all: OUTPUT, revenue: 42, rows: OUTPUT.rows },
    );
  });

  it('inserts a string value as is inside a longer string, and any other value as its JSON text', () => {
    resolved(
      {
        text: 'rev=${p1.src.output.revenue}, name=${p1.src.output.name}, rows=${p1.src.output.rows}',
        flag: 'on=${p1.src.output.nested.deep.flag}',
      },
      OUTPUT,
      {
        text: 'rev=42, name=ACME, rows=[{"id":7},{"id":8}]',
        flag: 'on=true',
      },
    );
  });

  it('inserts a string holding quotes or a reference-like text literally, evaluating nothing', () => {
    resolved(
      { text: 'said: ${p1.src.output.quote}' },
      { quote: 'a "b" ${p1.src.output}' },
      { text: 'said: a "b" ${p1.src.output}' },
    );
  });

  it('follows nested paths and array indexes, in nested objects and arrays of the input', () => {
    resolved(
      { deep: { list: ['${p1.src.output.rows.1.id}', '${p1.src.output.nested.deep.flag}'], fixed: 3 } },
      OUTPUT,
      { deep: { list: [8, true], fixed: 3 } },
    );
  });

  it('leaves strings without references untouched', () => {
    resolved({ plain: 'no $ref {here}', n: null }, OUTPUT, { plain: 'no $ref {here}', n: null });
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
    const { state } = unresolved({ value: reference }, OUTPUT, reason);
    expect(state.tasks.use?.error).toBe(reason);
    expect(state.result).toBe('partial');
  });

  it('takes a null output as is rather than as a missing one', () => {
    resolved({ value: '${p1.src.output}' }, null, { value: null });
  });

  it('skips a task whose referenced task did not succeed, with a reason naming it', () => {
    const s = specFor(
      plan([
        phase('p1', [task('src'), task('other')]),
        phase('p2', [task('use', { input_context: { v: '${p1.src.output}' } })], {
          depends_on_phases: ['p1'],
        }),
      ]),
    );
    s.given(
      s.started(),
      s.phaseStarted('p1'),
      s.dispatched('src'),
      s.dispatched('other'),
      s.failed('src', 'boom'),
      s.skipped('src', 'gave up after 1 attempt: boom'),
    )
      .when(s.success('other', 1))
      .then(
        s.succeeded('other', 1),
        s.phaseFinished('p1', 'partial'),
        s.phaseStarted('p2'),
        s.skipped('use', 'dependency "src" did not succeed (skipped)'),
        s.phaseFinished('p2', 'partial'),
        s.finished('partial'),
      );
  });

  it('waits, in a parallel phase, for a referenced depends_on task', () => {
    const s = specFor(
      plan([
        phase('p1', [task('b', { depends_on: ['a'], input_context: { v: '${p1.a.output.n}' } }), task('a')]),
      ]),
    );
    s.given()
      .when(s.execute())
      .then(s.started(), s.phaseStarted('p1'), s.dispatched('a'))
      .when(s.success('a', { n: 1 }))
      .then(s.succeeded('a', { n: 1 }), s.dispatched('b', { input: { v: 1 } }));
  });
});

describe('reference resolution and prototypes', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keeps a "__proto__" key of an output as plain data', () => {
    const output = JSON.parse('{"__proto__": {"polluted": true}, "safe": 1}') as JsonValue;
    const input = dispatchedInput(
      { all: '${p1.src.output}', text: 'x ${p1.src.output}', safe: '${p1.src.output.safe}' },
      output,
    );
    expect(input.safe).toBe(1);
    expect(input.text).toBe('x {"__proto__":{"polluted":true},"safe":1}');
    expect(Object.getPrototypeOf(input.all)).toBe(Object.prototype);
    expect(Object.hasOwn(input.all as object, '__proto__')).toBe(true);
  });

  it('does not reach through a "__proto__" key of an output to its contents', () => {
    const output = JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue;
    unresolved(
      { v: '${p1.src.output.polluted}' },
      output,
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
    // The spec's own plan must be valid: the one executed is another.
    const { s } = twoPhases({});
    const { decision } = s.given().when(
      s.execute(
        plan([
          phase('p1', [task('src')]),
          phase('p2', [task('use', { input_context: { v: '${p1.src.output.constructor}' } })], {
            depends_on_phases: ['p1'],
          }),
        ]),
      ),
    );
    expect(decision.events.map((event) => event.type)).toEqual(['ExecutionRejected']);
    const [rejected] = decision.events;
    expect(rejected?.type === 'ExecutionRejected' && rejected.issues[0]?.message).toMatch(
      /may not use the segment "constructor"/,
    );
  });
});
