import { phase, plan, task } from '@orchestra/testing';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ExecutionEvent,
  ExecutionEventContract,
  ExecutionStarted,
  TaskDispatched,
  TaskSucceeded,
} from './events.js';
import { LIMITS } from './limits.js';
import { Plan } from './plan.js';
import { ExecutionResults } from './results.js';
import { DispatchTask, malformedOutcomeAsFailure, TaskOutcome } from './tasks.js';

/** The contract as zod runs it, uncompiled: ExecutionEvent must answer exactly as this does. */
const contract = ExecutionEventContract;

const ids = { execution_id: 'x-1', at: 1_700_000_000_000 };
const ref = { ...ids, phase_id: 'p1', task_id: 't1' };
const fullPlan = Plan.parse(
  plan([
    phase('p1', [
      task('t1', {
        input_context: { n: 1, list: [true, null, 'x'] },
        retries: 2,
        fallback_plugin: 'spare@x',
      }),
      task('t2', { depends_on: ['t1'], input_context: { prev: '${p1.t1.output}' }, output_key: 'two' }),
    ]),
    phase('p2', [task('t3')], { depends_on_phases: ['p1'], execution_mode: 'sequential' }),
  ]),
);
/** One valid event of every type, as the orchestrator stores them. */
const valid: Record<string, unknown>[] = [
  {
    type: 'ExecutionRejected',
    ...ids,
    plan_id: 'plan-1',
    reason: 'r',
    issues: [{ path: 'phases', message: 'm' }],
  },
  { type: 'ExecutionStarted', ...ids, plan: fullPlan },
  { type: 'PhaseStarted', ...ids, phase_id: 'p1' },
  {
    type: 'TaskDispatched',
    ...ref,
    attempt_number: 1,
    kind: 'first',
    plugin: 'builtin',
    input_context: { n: 1, deep: { a: [1, { b: 'c' }] } },
    deadline_at: 1_700_000_060_000,
  },
  {
    type: 'TaskSucceeded',
    ...ref,
    attempt_number: 1,
    plugin_used: 'builtin',
    output: { ok: [1, 2] },
    duration_ms: 3,
  },
  { type: 'TaskFailed', ...ref, attempt_number: 2, plugin_used: 'builtin', error: 'boom', duration_ms: 0 },
  { type: 'TaskTimedOut', ...ref, attempt_number: 1, plugin_used: 'builtin', duration_ms: 60_000 },
  { type: 'TaskRetryScheduled', ...ref, next_attempt_number: 2, delay_ms: 200, due_at: 1_700_000_000_200 },
  { type: 'TaskSkipped', ...ref, reason: 'r' },
  { type: 'TaskGaveUp', ...ref, status: 'timeout', reason: 'r' },
  { type: 'OutcomeIgnored', ...ref, attempt_number: 1, reason: 'late' },
  { type: 'PhaseFinished', ...ids, phase_id: 'p1', status: 'partial' },
  { type: 'ExecutionCancelled', ...ids, reason: 'r' },
  { type: 'ExecutionFinished', ...ids, status: 'completed' },
];

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function expectSameAnswer(input: unknown): void {
  const fast = ExecutionEvent.safeParse(input);
  const slow = contract.safeParse(input);
  expect(fast.success).toBe(slow.success);
  if (slow.success) expect(fast.data).toStrictEqual(slow.data);
  else expect(fast.error?.issues).toStrictEqual(slow.error.issues);
}

describe('ExecutionEvent (compiled) answers as the contract does', () => {
  it.each(valid.map((event) => [event.type, event]))('accepts a valid %s unchanged', (_type, event) => {
    const input = clone(event);
    const parsed = ExecutionEvent.safeParse(input);
    if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
    expect(parsed.data).toStrictEqual(contract.parse(clone(event)));
    expect(parsed.data).toStrictEqual(event);
  });

  it('fills in the defaults of a stored plan that left them out', () => {
    const started = {
      type: 'ExecutionStarted',
      ...ids,
      plan: { plan_id: 'p', phases: [phase('a', [task('t')])] },
    };
    const parsed = ExecutionEvent.parse(started) as ExecutionStarted;
    expect(parsed.plan).toStrictEqual(Plan.parse(started.plan));
    expect(parsed.plan.phases[0]?.tasks[0]?.retries).toBe(0);
    expectSameAnswer(started);
  });

  it('gives an invalid event the contract’s issues, with their paths', () => {
    const bad = { ...clone(valid[4] as object), attempt_number: 0, output: { a: [Number.NaN] }, extra: 1 };
    expectSameAnswer(bad);
    expect(
      ExecutionEvent.safeParse(bad).error?.issues.map((issue) => [issue.path.join('.'), issue.message]),
    ).toEqual([
      ['attempt_number', 'Too small: expected number to be >=1'],
      [
        'output',
        'output.a[0] is NaN, not a JSON value (a string, a finite number, a boolean, null, an array or a plain object)',
      ],
      ['', 'Unrecognized key: "extra"'],
    ]);
  });

  it('rejects an output nested too deeply, naming where', () => {
    let output: unknown = 'leaf';
    for (let i = 0; i < LIMITS.messageDepth + 1; i++) output = [output];
    const result = ExecutionEvent.safeParse({ ...clone(valid[4] as object), output });
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.path).toEqual(['output']);
    expect(issue?.message).toBe(
      `nests deeper than ${LIMITS.messageDepth} levels (at output${'[0]'.repeat(LIMITS.messageDepth)})`,
    );
  });

  it('on any mutation of a valid event (fields removed, replaced, added; inside the plan too)', () => {
    const junk = fc.oneof(
      fc.anything({ maxDepth: 2 }),
      fc.constantFrom<unknown>(
        undefined,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        -1,
        0,
        1.5,
        2 ** 60,
        '',
        'a.b',
        'x'.repeat(LIMITS.idLength + 1),
        'builtin',
        'p1',
        't2',
        [],
        {},
        new Date(0),
        'first',
        'completed',
      ),
    );
    const mutation = fc.record({
      at: fc.array(fc.nat(), { maxLength: 6 }),
      key: fc.oneof(fc.nat(), fc.constantFrom('extra', '__proto__')),
      op: fc.constantFrom('delete', 'set', 'set'),
      value: junk,
    });
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (index, edits) => {
          const event = clone(valid[index]) as Record<string, unknown>;
          for (const edit of edits) mutate(event, edit);
          expectSameAnswer(event);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

/**
 * Walks down `root` by `at` (each step picks one of the keys or indexes there), then deletes or
 * sets one key of what it reached: an existing one (picked by number) or a new one.
 */
function mutate(
  root: Record<string, unknown>,
  edit: { at: number[]; key: number | string; op: string; value: unknown },
): void {
  let target: object = root;
  for (const step of edit.at) {
    const keys = Object.keys(target);
    const next =
      keys.length === 0 ? undefined : (target as Record<string, unknown>)[keys[step % keys.length] as string];
    if (next === null || typeof next !== 'object') break;
    target = next;
  }
  const keys = Object.keys(target);
  const key = typeof edit.key === 'string' ? edit.key : keys[edit.key % Math.max(keys.length, 1)];
  if (key === undefined) return;
  if (edit.op === 'delete') delete (target as Record<string, unknown>)[key];
  else
    Object.defineProperty(target, key, {
      value: edit.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

describe('JSON Schema export', () => {
  it.each<[string, z.ZodType]>([
    ['ExecutionEvent', ExecutionEvent],
    ['Plan', Plan],
    ['DispatchTask', DispatchTask],
    ['TaskOutcome', TaskOutcome],
    ['ExecutionResults', ExecutionResults],
  ])('exports %s', (_name, schema) => {
    expect(() => z.toJSONSchema(schema, { io: 'input' })).not.toThrow();
    expect(() => z.toJSONSchema(schema)).not.toThrow();
  });

  it('describes an input_context as an object and an output as any JSON value', () => {
    const schema = z.toJSONSchema(TaskDispatched) as { properties: Record<string, Record<string, unknown>> };
    expect(schema.properties.input_context?.type).toBe('object');
    const succeeded = z.toJSONSchema(TaskSucceeded) as {
      properties: Record<string, Record<string, unknown>>;
    };
    expect(succeeded.properties.output).toEqual({
      description: `any JSON value, nested at most ${LIMITS.messageDepth} levels`,
    });
  });
});

describe('malformedOutcomeAsFailure', () => {
  const named = {
    type: 'TaskOutcome',
    status: 'done',
    execution_id: 'e-1',
    phase_id: 'p',
    task_id: 't',
    attempt_number: 2,
    plugin_used: 'go-worker',
    duration_ms: 12,
  };

  it('makes a refused outcome that names its attempt a failure of that attempt, quoting the issues', () => {
    const failure = malformedOutcomeAsFailure(named, [{ path: 'status', message: 'Invalid input' }], 99);
    expect(failure).toEqual({
      type: 'TaskOutcome',
      status: 'failed',
      error: { message: 'malformed outcome (status: Invalid input)', code: 'MALFORMED_OUTCOME' },
      execution_id: 'e-1',
      phase_id: 'p',
      task_id: 't',
      attempt_number: 2,
      plugin_used: 'go-worker',
      duration_ms: 12,
      finished_at: 99,
    });
    expect(TaskOutcome.safeParse(failure).success).toBe(true);
  });

  it('gives nothing when the payload does not name an attempt, and bounds the message', () => {
    expect(malformedOutcomeAsFailure({ ...named, attempt_number: 0 }, [], 1)).toBeUndefined();
    expect(malformedOutcomeAsFailure({ ...named, execution_id: 'a.b' }, [], 1)).toBeUndefined();
    expect(malformedOutcomeAsFailure('not an object', [], 1)).toBeUndefined();
    const long = malformedOutcomeAsFailure(
      { ...named, duration_ms: -1 },
      [{ path: 'x', message: 'y'.repeat(10_000) }],
      1,
    );
    expect(long?.error.message).toHaveLength(8192);
    expect(long?.duration_ms).toBe(0);
  });
});
