import fc from 'fast-check';
import { depthExceeding, isJsonValue, jsonValueProblem, TOO_DEEP } from './json.js';
import { LIMITS } from './limits.js';
import { JsonObject, JsonValue } from './plan.js';

/** An object `levels` levels deep: `{ a: { a: ... 1 } }` with `levels` objects. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const issuesOf = (result: {
  success: boolean;
  error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
}) => (result.error?.issues ?? []).map((issue) => ({ path: issue.path.join('.'), message: issue.message }));

describe('isJsonValue', () => {
  it('accepts whatever JSON.parse returns, up to the depth bound', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as unknown;
        expect(isJsonValue(parsed, LIMITS.messageDepth)).toBe(true);
        expect(jsonValueProblem(parsed, LIMITS.messageDepth)).toBeUndefined();
      }),
    );
  });

  it('agrees with depthExceeding on the depth bound', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, limit) => {
        expect(isJsonValue(value, limit)).toBe(depthExceeding(value, limit) === undefined);
      }),
    );
    expect(isJsonValue(nested(LIMITS.messageDepth), LIMITS.messageDepth)).toBe(true);
    expect(isJsonValue(nested(LIMITS.messageDepth + 1), LIMITS.messageDepth)).toBe(false);
  });

  it.each<[string, unknown, Array<string | number>, string]>([
    ['undefined', { a: undefined }, ['a'], 'is undefined, not a JSON value'],
    ['NaN', [1, Number.NaN], [1], 'is NaN, not a JSON value'],
    ['Infinity', { a: [{ b: Number.POSITIVE_INFINITY }] }, ['a', 0, 'b'], 'is Infinity, not a JSON value'],
    ['a function', { f: () => 1 }, ['f'], 'is a function, not a JSON value'],
    ['a bigint', { n: 1n }, ['n'], 'is a bigint, not a JSON value'],
    ['a symbol', [Symbol('s')], [0], 'is a symbol, not a JSON value'],
    ['a Date', { when: new Date(0) }, ['when'], 'is a Date, not a JSON value'],
    ['a Map', new Map(), [], 'is a Map, not a JSON value'],
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is refused
    ['a hole in an array', [1, , 3], [1], 'is undefined, not a JSON value'],
  ])('refuses %s and says where', (_name, value, path, reason) => {
    expect(isJsonValue(value, LIMITS.messageDepth)).toBe(false);
    const problem = jsonValueProblem(value, LIMITS.messageDepth);
    expect(problem?.path).toEqual(path);
    expect(problem?.reason).toContain(reason);
  });

  it('ends on a cycle, at the depth bound', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(isJsonValue(cyclic, LIMITS.messageDepth)).toBe(false);
    const problem = jsonValueProblem(cyclic, LIMITS.messageDepth);
    expect(problem?.reason).toBe(TOO_DEEP);
    expect(problem?.path).toEqual(Array(LIMITS.messageDepth).fill('self'));
  });

  it('keeps an own "__proto__" key as plain data', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown;
    expect(isJsonValue(value, LIMITS.messageDepth)).toBe(true);
    expect(JsonObject.parse(value)).toBe(value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts an object without a prototype; refuses a class instance', () => {
    expect(isJsonValue(Object.assign(Object.create(null), { a: 1 }), 1)).toBe(true);
    expect(isJsonValue(new (class Point {})(), 1)).toBe(false);
  });
});

describe('JsonValue and JsonObject', () => {
  it('reject a value too deep with the path of the place that is too deep', () => {
    const result = JsonValue.safeParse(nested(LIMITS.messageDepth + 1));
    expect(result.success).toBe(false);
    const [issue] = issuesOf(result);
    expect(issue?.path).toBe('');
    expect(issue?.message).toBe(
      `nests deeper than ${LIMITS.messageDepth} levels (at ${Array(LIMITS.messageDepth).fill('a').join('.')})`,
    );
  });

  it('do not overflow the stack on a value 10,000 levels deep', () => {
    expect(JsonValue.safeParse(nested(10_000)).success).toBe(false);
  });

  it('say what is wrong inside an input_context, from the field down', () => {
    expect(issuesOf(JsonObject.safeParse({ a: [1, { b: undefined }] }))).toEqual([
      {
        path: '',
        message:
          'a[1].b is undefined, not a JSON value (a string, a finite number, a boolean, null, an array or a plain object)',
      },
    ]);
    expect(issuesOf(JsonObject.safeParse(['not', 'an', 'object']))).toEqual([
      { path: '', message: 'Invalid input: expected record, received array' },
    ]);
    expect(issuesOf(JsonObject.safeParse(null))[0]?.message).toBe(
      'Invalid input: expected record, received null',
    );
  });

  it('return the value itself, not a copy', () => {
    const value = { a: [1, { b: 'c' }] };
    expect(JsonValue.parse(value)).toBe(value);
    expect(JsonObject.parse(value)).toBe(value);
  });
});
