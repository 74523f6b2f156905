// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { issuesOf, onlyIssue, phase, plan, task } from '@orchestra/testing';
import type { JsonObject } from './plan.js';
import { forEachString, parseReferenceBody, referencesInString, wholeReference } from './references.js';
import { validatePlan } from './validate.js';

/** Phase `up` (tasks u1, u2) feeds phase `down`; `down.use` carries `input_context`. */
function downstream(input_context: JsonObject, extra: { tasks?: ReturnType<typeof task>[] } = {}) {
  return plan([
    phase('up', [task('u1'), task('u2')]),
    phase('down', [task('use', { input_context }), ...(extra.tasks ?? [])], { depends_on_phases: ['up'] }),
  ]);
}

describe('references: parsing', () => {
  it('parses phase, task and path', () => {
    expect(parseReferenceBody('p-1.t_2.output.rows.0.id')).toEqual({
      ok: true,
      reference: {
        raw: '${p-1.t_2.output.rows.0.id}',
        phase_id: 'p-1',
        task_id: 't_2',
        path: ['rows', '0', 'id'],
      },
    });
    expect(parseReferenceBody('p.t.output')).toMatchObject({ ok: true, reference: { path: [] } });
  });

  it('finds every reference of a string in order, and recognises a whole-string reference', () => {
    const found = referencesInString('a ${p.t1.output.x} b ${p.t2.output} c');
    expect(found.map((parse) => parse.ok && parse.reference.task_id)).toEqual(['t1', 't2']);
    expect(referencesInString('no references, just $ and { }')).toEqual([]);
    expect(wholeReference('${p.t.output.x}')).toBe('p.t.output.x');
    expect(wholeReference(' ${p.t.output.x}')).toBeUndefined();
    expect(wholeReference('${p.t.output}${p.t.output}')).toBeUndefined();
  });

  it('visits every string of a JSON value with its path', () => {
    const seen: string[] = [];
    forEachString({ a: 'x', list: [1, 'y', { b: 'z' }], n: null }, 'input_context', (text, path) =>
      seen.push(`${path}=${text}`),
    );
    expect(seen).toEqual(['input_context.a=x', 'input_context.list[1]=y', 'input_context.list[2].b=z']);
  });
});

describe('references: malformed and hostile', () => {
  it.each([
    ['${}', 'must look like'],
    ['${up}', 'must look like'],
    ['${up.u1}', 'must look like'],
    ['${up.u1.result}', 'must look like'],
    ['${up.u1.outputs.x}', 'must look like'],
    ['${up..output}', 'empty or invalid segment ""'],
    ['${up.u1.output.}', 'empty or invalid segment ""'],
    ['${up.u1.output.a b}', 'empty or invalid segment "a b"'],
    ['${up.u1.output[0]}', 'must look like'],
    ['${up.u1.output.rows[0]}', 'empty or invalid segment "rows[0]"'],
    ['${ up.u1.output }', 'must look like'],
    ['${up .u1.output}', 'empty or invalid segment "up "'],
    ['${up.u1.output.${up.u2.output}}', 'empty or invalid segment "${up"'],
    ['${up.u1.output', 'is not closed with "}"'],
    ['prefix ${up.u1.output} then ${up.u2.output.x', 'is not closed with "}"'],
    ['${up.u1.output.__proto__}', 'may not use the segment "__proto__"'],
    ['${up.u1.output.__proto__.polluted}', 'may not use the segment "__proto__"'],
    ['${up.u1.output.constructor}', 'may not use the segment "constructor"'],
    ['${up.u1.output.constructor.prototype}', 'may not use the segment "constructor"'],
    ['${up.u1.output.prototype}', 'may not use the segment "prototype"'],
    ['${up.constructor.output}', 'may not use the segment "constructor"'],
  ])('rejects %s', (text, message) => {
    const issue = onlyIssue(validatePlan(downstream({ x: text })));
    expect(issue.path).toBe('phases[1].tasks[0].input_context.x');
    expect(issue.message).toMatch(/^reference \$\{/);
    expect(issue.message).toContain(message);
  });

  it('reports the path of a reference deep inside the input', () => {
    const issue = onlyIssue(validatePlan(downstream({ list: [1, { deep: ['ok', 'bad ${up.u1}'] }] })));
    expect(issue.path).toBe('phases[1].tasks[0].input_context.list[1].deep[1]');
  });
});

describe('references: dangling', () => {
  it('rejects a reference to an unknown phase', () => {
    expect(onlyIssue(validatePlan(downstream({ x: '${nowhere.u1.output}' })))).toEqual({
      path: 'phases[1].tasks[0].input_context.x',
      message: 'reference ${nowhere.u1.output} names unknown phase "nowhere"',
    });
  });

  it('rejects a reference to an unknown task', () => {
    expect(onlyIssue(validatePlan(downstream({ x: '${up.ghost.output}' }))).message).toBe(
      'reference ${up.ghost.output} names unknown task "ghost"',
    );
  });

  it('rejects a reference whose task lives in another phase than the one named', () => {
    expect(onlyIssue(validatePlan(downstream({ x: '${down.u1.output}' }))).message).toBe(
      'reference ${down.u1.output} names task "u1" in phase "down", but that task is in phase "up"',
    );
  });

  it('rejects a task referencing itself', () => {
    expect(onlyIssue(validatePlan(downstream({ x: '${down.use.output}' }))).message).toBe(
      'reference ${down.use.output} names the task itself',
    );
  });
});

describe('references: only to tasks certain to finish first', () => {
  it('accepts references to a directly upstream phase, whole or inside a longer string', () => {
    expect(validatePlan(downstream({ a: '${up.u1.output}', b: 'total: ${up.u2.output.total}' })).ok).toBe(
      true,
    );
  });

  it('accepts references to a transitively upstream phase', () => {
    const value = plan([
      phase('p1', [task('t1')]),
      phase('p2', [task('t2')], { depends_on_phases: ['p1'] }),
      phase('p3', [task('t3', { input_context: { x: '${p1.t1.output}' } })], { depends_on_phases: ['p2'] }),
    ]);
    expect(validatePlan(value).ok).toBe(true);
  });

  it('rejects references to a phase that is not upstream: a sibling or a downstream phase', () => {
    const value = plan([
      phase('root', [task('r')]),
      phase('left', [task('l', { input_context: { x: '${right.rt.output}' } })], {
        depends_on_phases: ['root'],
      }),
      phase('right', [task('rt')], { depends_on_phases: ['root'] }),
      phase('later', [task('z')], { depends_on_phases: ['left'] }),
      phase('early', [task('e', { input_context: { x: '${later.z.output}' } })]),
    ]);
    expect(issuesOf(validatePlan(value))).toEqual([
      {
        path: 'phases[1].tasks[0].input_context.x',
        message:
          'reference ${right.rt.output} names phase "right", which is not upstream of phase "left" (add it to depends_on_phases)',
      },
      {
        path: 'phases[4].tasks[0].input_context.x',
        message:
          'reference ${later.z.output} names phase "later", which is not upstream of phase "early" (add it to depends_on_phases)',
      },
    ]);
  });

  it('rejects, in a parallel phase, a reference to a task it does not depend on', () => {
    const value = plan([phase('p', [task('a'), task('b', { input_context: { x: '${p.a.output}' } })])]);
    expect(onlyIssue(validatePlan(value))).toEqual({
      path: 'phases[0].tasks[1].input_context.x',
      message:
        'reference ${p.a.output} names task "a" of the same parallel phase, which is not certain to finish first (add it to depends_on)',
    });
  });

  it('accepts, in a parallel phase, references to depends_on tasks, directly or transitively', () => {
    const value = plan([
      phase('p', [
        task('c', {
          depends_on: ['b'],
          input_context: { direct: '${p.b.output}', transitive: '${p.a.output.x}' },
        }),
        task('a'),
        task('b', { depends_on: ['a'] }),
      ]),
    ]);
    expect(validatePlan(value).ok).toBe(true);
  });

  it('accepts, in a sequential phase, references to earlier tasks and rejects later ones', () => {
    const ok = plan([
      phase(
        's',
        [task('a'), task('b'), task('c', { input_context: { x: '${s.a.output}', y: '${s.b.output}' } })],
        {
          execution_mode: 'sequential',
        },
      ),
    ]);
    expect(validatePlan(ok).ok).toBe(true);
    const later = plan([
      phase('s', [task('a', { input_context: { x: '${s.b.output}' } }), task('b')], {
        execution_mode: 'sequential',
      }),
    ]);
    expect(onlyIssue(validatePlan(later)).message).toBe(
      'reference ${s.b.output} names task "b" of the same sequential phase, which is not certain to finish first (add it to depends_on)',
    );
  });

  it('reports every bad reference of a task, not only the first', () => {
    const issues = issuesOf(validatePlan(downstream({ a: '${x.y.output} ${up.nope.output}', b: ['${up}'] })));
    expect(issues.map((issue) => issue.path)).toEqual([
      'phases[1].tasks[0].input_context.a',
      'phases[1].tasks[0].input_context.a',
      'phases[1].tasks[0].input_context.b[0]',
    ]);
  });
});
