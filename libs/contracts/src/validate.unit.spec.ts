// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { issuesOf, onlyIssue, phase, plan, task } from '@orchestra/testing';
import type { Issue } from './errors.js';
import { validatePlan } from './validate.js';

/** Every issue path looks like `(root)`, `plan_id`, `phases[2].tasks[0].retries`, `...input_context.list[1]`. */
const PATH = /^(\(root\)|[a-z_]+(\[\d+\])*(\.[A-Za-z0-9_-]+(\[\d+\])*)*)$/;

function expectWellFormed(issues: Issue[]) {
  for (const issue of issues) {
    expect(issue.path).toMatch(PATH);
    expect(issue.message.length).toBeGreaterThan(8);
  }
}

const three = (tasks: ReturnType<typeof task>[]) =>
  plan([phase('a', [task('a1')]), phase('b', [task('b1')]), phase('c', tasks)]);

describe('validatePlan: shape', () => {
  it('accepts a minimal plan', () => {
    expect(validatePlan(plan([phase('a', [task('t')])])).ok).toBe(true);
  });

  it.each([
    ['retries', { retries: 'two' }, 'expected number, received string'],
    ['retries', { retries: 1.5 }, 'expected int'],
    ['timeout_ms', { timeout_ms: '5s' }, 'expected number, received string'],
    ['input_context', { input_context: ['not', 'an', 'object'] }, 'expected record, received array'],
    ['depends_on', { depends_on: 'a1' }, 'expected array, received string'],
    ['entry_point', { entry_point: 'echo' }, 'expected object, received string'],
    ['entry_point.value', { entry_point: { type: 'function', value: '' } }, 'Too small'],
    ['backoff.multiplier', { backoff: { multiplier: 0.5 } }, 'Too small'],
    ['description', { description: 42 }, 'expected string, received number'],
  ])('reports a wrong %s with its full path', (field, extra, message) => {
    const issue = onlyIssue(validatePlan(three([task('c1'), task('c2', extra as object)])));
    expect(issue).toEqual({ path: `phases[2].tasks[1].${field}`, message: expect.stringContaining(message) });
  });

  it('reports wrong enums at phase and plan level', () => {
    const issues = issuesOf(
      validatePlan({
        ...plan([phase('a', [task('t')], { execution_mode: 'concurrent' as 'parallel' })]),
        on_partial_failure: 'ignore' as 'abort',
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        {
          path: 'phases[0].execution_mode',
          message: 'Invalid option: expected one of "parallel"|"sequential"',
        },
        { path: 'on_partial_failure', message: 'Invalid option: expected one of "continue"|"abort"' },
      ]),
    );
  });

  it('rejects unknown fields everywhere (strict), at their own path, with the nearest field', () => {
    const value = {
      ...plan([phase('a', [task('t', { retires: 2 } as object)], { mode: 'x' } as object)]),
      extra: true,
    };
    // Listed in the order the plan reads: known fields as the schema declares them, unknown ones after.
    expect(issuesOf(validatePlan(value))).toEqual([
      { path: 'phases[0].tasks[0].retires', message: 'unknown field "retires"; did you mean "retries"?' },
      {
        path: 'phases[0].mode',
        message: 'unknown field "mode"; did you mean "execution_mode"?',
      },
      {
        path: 'extra',
        message:
          'unknown field "extra"; the fields here are plan_id, description, on_partial_failure, phases',
      },
    ]);
    expect(
      issuesOf(
        validatePlan(
          plan([phase('a', [task('t', { entry_point: { type: 'f', value: 'e', x: 1 } } as object)])]),
        ),
      ),
    ).toEqual([
      {
        path: 'phases[0].tasks[0].entry_point.x',
        message: 'unknown field "x"; the fields here are type, value',
      },
    ]);
  });

  it.each([
    ['timeout', 'timeout_ms'],
    ['Retries', 'retries'],
    ['depend_on', 'depends_on'],
    ['plugin', 'assigned_plugin'],
    ['fallback', 'fallback_plugin'],
    ['input', 'input_context'],
  ])('suggests %s -> %s for a task', (key, field) => {
    expect(onlyIssue(validatePlan(plan([phase('a', [task('t', { [key]: 1 } as object)])])))).toEqual({
      path: `phases[0].tasks[0].${key}`,
      message: `unknown field "${key}"; did you mean "${field}"?`,
    });
  });

  it('reports every missing required field by path', () => {
    const issues = issuesOf(validatePlan({ phases: [{ tasks: [{ entry_point: { type: 'function' } }] }] }));
    expect(issues).toEqual([
      { path: 'plan_id', message: 'missing required field (expected string)' },
      { path: 'phases[0].phase_id', message: 'missing required field (expected string)' },
      { path: 'phases[0].tasks[0].task_id', message: 'missing required field (expected string)' },
      { path: 'phases[0].tasks[0].assigned_plugin', message: 'missing required field (expected string)' },
      { path: 'phases[0].tasks[0].entry_point.value', message: 'missing required field (expected string)' },
    ]);
    expect(onlyIssue(validatePlan({ plan_id: 'p' }))).toEqual({
      path: 'phases',
      message: 'missing required field (expected array)',
    });
  });

  it('rejects a plan without phases and a phase without tasks', () => {
    expect(onlyIssue(validatePlan(plan([])))).toEqual({
      path: 'phases',
      message: 'a plan needs at least one phase',
    });
    expect(onlyIssue(validatePlan(plan([phase('a', [])])))).toEqual({
      path: 'phases[0].tasks',
      message: 'a phase needs at least one task',
    });
  });

  it.each(['a.b', 'a b', 'a:b', '${x}', '-a', '_a', '', 'a'.repeat(129)])('rejects the id %j', (id) => {
    const issues = issuesOf(validatePlan(plan([phase(id, [task(id)])])));
    expect([...new Set(issues.map((issue) => issue.path))]).toEqual([
      'phases[0].phase_id',
      'phases[0].tasks[0].task_id',
    ]);
    expectWellFormed(issues);
  });

  it('rejects a value that is not an object at all', () => {
    for (const value of [undefined, null, 'plan', 42, []]) {
      expect(onlyIssue(validatePlan(value)).path).toBe('(root)');
    }
  });
});

describe('validatePlan: ids and dependencies', () => {
  it('rejects a duplicate phase id, pointing at both places', () => {
    const issue = onlyIssue(
      validatePlan(plan([phase('a', [task('t1')]), phase('b', [task('t2')]), phase('a', [task('t3')])])),
    );
    expect(issue).toEqual({
      path: 'phases[2].phase_id',
      message: 'duplicate phase id "a" (first used at phases[0])',
    });
  });

  it('rejects a duplicate task id, also across phases', () => {
    const inPhase = onlyIssue(validatePlan(plan([phase('a', [task('t'), task('t')])])));
    expect(inPhase.path).toBe('phases[0].tasks[1].task_id');
    const across = onlyIssue(
      validatePlan(plan([phase('a', [task('x'), task('t')]), phase('b', [task('t')])])),
    );
    expect(across).toEqual({
      path: 'phases[1].tasks[0].task_id',
      message:
        'duplicate task id "t" (first used at phases[0].tasks[1]); task ids must be unique in the whole plan',
    });
  });

  it('rejects unknown depends_on_phases and a phase depending on itself', () => {
    const issues = issuesOf(
      validatePlan(
        plan([
          phase('a', [task('t1')], { depends_on_phases: ['a'] }),
          phase('b', [task('t2')], { depends_on_phases: ['a', 'nope'] }),
        ]),
      ),
    );
    expect(issues).toEqual([
      { path: 'phases[0].depends_on_phases[0]', message: 'phase "a" cannot depend on itself' },
      { path: 'phases[1].depends_on_phases[1]', message: 'unknown phase "nope"' },
    ]);
  });

  it('rejects unknown depends_on and a task depending on itself', () => {
    const issues = issuesOf(validatePlan(plan([phase('a', [task('t1', { depends_on: ['t1', 'ghost'] })])])));
    expect(issues).toEqual([
      { path: 'phases[0].tasks[0].depends_on[0]', message: 'task "t1" cannot depend on itself' },
      { path: 'phases[0].tasks[0].depends_on[1]', message: 'unknown task "ghost"' },
    ]);
  });

  it('rejects depends_on naming a task of another phase, suggesting depends_on_phases', () => {
    const value = plan([
      phase('a', [task('t1')]),
      phase('b', [task('t2', { depends_on: ['t1'] })], { depends_on_phases: ['a'] }),
    ]);
    expect(onlyIssue(validatePlan(value))).toEqual({
      path: 'phases[1].tasks[0].depends_on[0]',
      message:
        'task "t1" is in phase "a"; depends_on names tasks of the same phase (use depends_on_phases for "a")',
    });
  });

  it('rejects, in a sequential phase, depends_on naming a later task', () => {
    const tasks = [task('first', { depends_on: ['second'] }), task('second', { depends_on: ['first'] })];
    expect(onlyIssue(validatePlan(plan([phase('s', tasks, { execution_mode: 'sequential' })])))).toEqual({
      path: 'phases[0].tasks[0].depends_on[0]',
      message: 'in sequential phase "s" task "first" runs before "second", so it cannot depend on it',
    });
  });

  it('accepts, in a parallel phase, depends_on naming a task listed later', () => {
    expect(
      validatePlan(plan([phase('p', [task('first', { depends_on: ['second'] }), task('second')])])).ok,
    ).toBe(true);
  });

  it('rejects a phase cycle and names it', () => {
    const value = plan([
      phase('a', [task('t1')], { depends_on_phases: ['c'] }),
      phase('b', [task('t2')], { depends_on_phases: ['a'] }),
      phase('c', [task('t3')], { depends_on_phases: ['b'] }),
      phase('d', [task('t4')], { depends_on_phases: ['a'] }),
    ]);
    expect(onlyIssue(validatePlan(value))).toEqual({
      path: 'phases[0].depends_on_phases',
      message: 'phases depend on each other in a cycle: a -> c -> b -> a',
    });
  });

  it('rejects a two-phase cycle as a -> b -> a', () => {
    const value = plan([
      phase('a', [task('t1')], { depends_on_phases: ['b'] }),
      phase('b', [task('t2')], { depends_on_phases: ['a'] }),
    ]);
    expect(onlyIssue(validatePlan(value)).message).toBe(
      'phases depend on each other in a cycle: a -> b -> a',
    );
  });

  it('rejects a task cycle and names it', () => {
    const value = plan([
      phase('a', [task('t0')]),
      phase('b', [
        task('x', { depends_on: ['z'] }),
        task('y', { depends_on: ['x'] }),
        task('z', { depends_on: ['y'] }),
      ]),
    ]);
    expect(onlyIssue(validatePlan(value))).toEqual({
      path: 'phases[1].tasks[0].depends_on',
      message: 'tasks depend on each other in a cycle: x -> z -> y -> x',
    });
  });

  it('accepts a diamond of phases and of tasks (shared dependencies are not cycles)', () => {
    const value = plan([
      phase('top', [task('t1')]),
      phase('left', [task('t2')], { depends_on_phases: ['top'] }),
      phase('right', [task('t3')], { depends_on_phases: ['top'] }),
      phase(
        'bottom',
        [
          task('a'),
          task('b', { depends_on: ['a'] }),
          task('c', { depends_on: ['a'] }),
          task('d', { depends_on: ['b', 'c'] }),
        ],
        {
          depends_on_phases: ['left', 'right'],
        },
      ),
    ]);
    expect(validatePlan(value).ok).toBe(true);
  });

  it('gives every issue a path and a sentence', () => {
    const issues = issuesOf(
      validatePlan({
        plan_id: 'bad id',
        phases: [
          {
            phase_id: 'a',
            tasks: [{ task_id: 't', assigned_plugin: 'a.b', entry_point: {}, retries: -1, zzz: 1 }],
          },
        ],
      }),
    );
    expect(issues.length).toBeGreaterThanOrEqual(5);
    expectWellFormed(issues);
  });
});

describe('validatePlan: every problem of every kind in one pass', () => {
  // One plan with bounds, unknown fields, a duplicate id, an unknown dependency, a cycle and bad
  // references: all are listed together, in the order the plan reads, whatever else is wrong.
  const value = {
    plan_id: 'everything-wrong',
    phases: [
      {
        phase_id: 'gather',
        tasks: [
          task('fetch', { retries: 99, timeout_ms: -5 }),
          task('loop-a', { depends_on: ['loop-b'] }),
          task('loop-b', { depends_on: ['loop-a', 'nowhere'] }),
        ],
      },
      {
        phase_id: 'report',
        depends_on_phases: ['gather'],
        tasks: [
          task('fetch', { retires: 1 } as object),
          task('write', {
            input_context: { a: '${gather.missing.output}', b: '${nowhere.fetch.output}' },
          }),
        ],
      },
    ],
  };

  it('lists bounds, unknown fields, ids, dependencies, cycles and references together, sorted by path', () => {
    expect(issuesOf(validatePlan(value))).toEqual([
      { path: 'phases[0].tasks[0].retries', message: 'Too big: expected number to be <=20' },
      { path: 'phases[0].tasks[0].timeout_ms', message: 'Too small: expected number to be >=1' },
      {
        path: 'phases[0].tasks[1].depends_on',
        message: 'tasks depend on each other in a cycle: loop-a -> loop-b -> loop-a',
      },
      { path: 'phases[0].tasks[2].depends_on[1]', message: 'unknown task "nowhere"' },
      {
        path: 'phases[1].tasks[0].task_id',
        message:
          'duplicate task id "fetch" (first used at phases[0].tasks[0]); task ids must be unique in the whole plan',
      },
      { path: 'phases[1].tasks[0].retires', message: 'unknown field "retires"; did you mean "retries"?' },
      {
        path: 'phases[1].tasks[1].input_context.a',
        message: 'reference ${gather.missing.output} names unknown task "missing"',
      },
      {
        path: 'phases[1].tasks[1].input_context.b',
        message: 'reference ${nowhere.fetch.output} names unknown phase "nowhere"',
      },
    ]);
  });

  it('still checks the references and ids of a plan whose fields have the wrong types', () => {
    const issues = issuesOf(
      validatePlan({
        plan_id: 'p',
        phases: [
          { phase_id: 'a', tasks: [task('t', { retries: 'two' as unknown as number }), { task_id: 't' }] },
          { phase_id: 42, tasks: [task('u', { input_context: { x: '${a.v.output}' } })] },
        ],
      }),
    );
    expect(issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'phases[0].tasks[0].retries: Invalid input: expected number, received string',
      expect.stringMatching(/^phases\[0\]\.tasks\[1\]\.task_id: duplicate task id "t"/),
      'phases[0].tasks[1].assigned_plugin: missing required field (expected string)',
      'phases[0].tasks[1].entry_point: missing required field (expected object)',
      'phases[1].phase_id: Invalid input: expected string, received number',
      'phases[1].tasks[0].input_context.x: reference ${a.v.output} names unknown task "v"',
    ]);
  });

  it('sorts indexes as numbers and the plan fields in the order they are declared', () => {
    const phases = Array.from({ length: 12 }, (_, i) => phase(`p${i}`, [task(`t${i}`, { retries: -1 })]));
    const issues = issuesOf(validatePlan({ phases, plan_id: 'bad id' }));
    expect(issues.map((issue) => issue.path)).toEqual([
      'plan_id',
      ...phases.map((_, i) => `phases[${i}].tasks[0].retries`),
    ]);
  });
});
