// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { issuesOf, onlyIssue } from '@orchestra/testing';
import fc from 'fast-check';
import { LIMITS } from './limits.js';
import { parseDocumentText, parsePlan } from './parse.js';
import { DEFAULT_BACKOFF, DEFAULT_TIMEOUT_MS } from './plan.js';

const YAML_PLAN = `
plan_id: PLAN-2026-02-04-001
phases:
  - phase_id: gather
    tasks:
      - task_id: fetch
        assigned_plugin: data-connector@cowork
        entry_point: { type: skill, value: fetch-financials }
        input_context: { company: ACME }
  - phase_id: analyse
    depends_on_phases: [gather]
    execution_mode: sequential
    on_partial_failure: abort
    tasks:
      - task_id: finance
        assigned_plugin: finance@cowork
        entry_point: { type: skill, value: analyse }
        input_context: { data: "\${gather.fetch.output}" }
        retries: 2
        backoff: { initial_ms: 50 }
        fallback_plugin: builtin
        timeout_ms: 5000
`;

describe('parsePlan: documents that are plans', () => {
  it('parses YAML and fills in every default', () => {
    const result = parsePlan(YAML_PLAN);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const { plan } = result;
    expect(plan.plan_id).toBe('PLAN-2026-02-04-001');
    expect(plan.on_partial_failure).toBe('continue');
    const [gather, analyse] = plan.phases;
    expect(gather).toMatchObject({ depends_on_phases: [], execution_mode: 'parallel' });
    expect(gather?.on_partial_failure).toBeUndefined();
    expect(gather?.tasks[0]).toEqual({
      task_id: 'fetch',
      description: '',
      assigned_plugin: 'data-connector@cowork',
      entry_point: { type: 'skill', value: 'fetch-financials' },
      input_context: { company: 'ACME' },
      depends_on: [],
      retries: 0,
      backoff: DEFAULT_BACKOFF,
      timeout_ms: DEFAULT_TIMEOUT_MS,
    });
    expect(analyse).toMatchObject({ execution_mode: 'sequential', on_partial_failure: 'abort' });
    expect(analyse?.tasks[0]).toMatchObject({
      retries: 2,
      backoff: { initial_ms: 50, multiplier: 2, max_ms: 10_000 },
      fallback_plugin: 'builtin',
      timeout_ms: 5000,
      input_context: { data: '${gather.fetch.output}' },
    });
  });

  it('parses the same plan written as JSON, detected from its first character', () => {
    const fromYaml = parsePlan(YAML_PLAN);
    if (!fromYaml.ok) throw new Error('YAML fixture must be valid');
    const json = `\n  ${JSON.stringify(fromYaml.plan, null, 2)}`;
    expect(parsePlan(json)).toEqual(fromYaml);
    expect(parsePlan(json, 'json')).toEqual(fromYaml);
  });

  it('honours an explicit format', () => {
    expect(onlyIssue(parsePlan('plan_id: x', 'json')).message).toMatch(/^invalid JSON: /);
  });

  it('accepts a few YAML anchors and aliases, as used to share a backoff', () => {
    const text = `
plan_id: p
phases:
  - phase_id: a
    tasks:
      - { task_id: t1, assigned_plugin: builtin, entry_point: &fn { type: function, value: echo }, backoff: &b { initial_ms: 10 } }
      - { task_id: t2, assigned_plugin: builtin, entry_point: *fn, backoff: *b }
`;
    const result = parsePlan(text);
    expect(result.ok && result.plan.phases[0]?.tasks[1]?.backoff.initial_ms).toBe(10);
  });
});

describe('parsePlan: documents that are not', () => {
  it.each([
    ['an empty document', '', /the document is empty/],
    ['white space only', '  \n\t\n', /the document is empty/],
    ['broken YAML', 'plan_id: [p\nphases: 1\n', /^invalid YAML: .+ at line \d+, column \d+/],
    ['a YAML tab indentation error', 'plan_id: p\nphases:\n\t- x\n', /^invalid YAML: /],
    ['broken JSON', '{"plan_id": "p", ', /^invalid JSON: /],
    ['JSON with a trailing comma', '{"plan_id": "p",}', /^invalid JSON: /],
    ['several YAML documents', 'plan_id: a\n---\nplan_id: b\n', /^invalid YAML: .*multiple documents/],
  ])('rejects %s with an error at (root)', (_what, text, message) => {
    const issue = issuesOf(parsePlan(text))[0];
    expect(issue?.path).toBe('(root)');
    expect(issue?.message).toMatch(message);
  });

  it('rejects duplicate YAML keys, naming the line', () => {
    const issue = onlyIssue(parsePlan('plan_id: a\nplan_id: b\nphases: []\n'));
    expect(issue).toEqual({
      path: '(root)',
      message: expect.stringMatching(/keys must be unique at line 2/),
    });
  });

  it('rejects duplicate keys nested inside a task', () => {
    const text = YAML_PLAN.replace('task_id: fetch', 'task_id: fetch\n        task_id: again');
    expect(onlyIssue(parsePlan(text)).message).toMatch(/must be unique/);
  });

  it.each([
    ['a list', '- 1\n- 2\n', 'expected object, received array'],
    ['a scalar', 'hello', 'expected object, received string'],
    ['null', 'null', 'expected object, received null'],
  ])('rejects a document that is %s', (_what, text, message) => {
    expect(onlyIssue(parsePlan(text))).toEqual({ path: '(root)', message: expect.stringContaining(message) });
  });

  it('rejects a YAML alias bomb (billion laughs) quickly and says why', () => {
    const lines = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const started = performance.now();
    const issue = onlyIssue(parsePlan(lines.join('\n')));
    expect(performance.now() - started).toBeLessThan(500);
    expect(issue.path).toBe('(root)');
    expect(issue.message).toMatch(/^invalid YAML: Excessive alias count/);
    expect(issue.message).toContain(`aliases are limited to ${LIMITS.yamlAliases}`);
  });

  it('rejects a document over LIMITS.planBytes before parsing it', () => {
    const text = `plan_id: p\ndescription: "${'x'.repeat(LIMITS.planBytes)}"\n`;
    const started = performance.now();
    expect(onlyIssue(parsePlan(text)).message).toMatch(
      new RegExp(`^the document is \\d+ bytes; the limit is ${LIMITS.planBytes}$`),
    );
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('counts bytes, not characters, against the limit', () => {
    const text = `plan_id: p\ndescription: "${'é'.repeat(LIMITS.planBytes / 2)}"\n`;
    expect(text.length).toBeLessThan(LIMITS.planBytes);
    expect(onlyIssue(parsePlan(text)).message).toMatch(/the limit is/);
  });
});

describe('parsePlan: nesting depth', () => {
  const nested = (levels: number) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };
  const planWith = (input_context: unknown) =>
    JSON.stringify({
      plan_id: 'p',
      phases: [
        {
          phase_id: 'a',
          tasks: [
            {
              task_id: 't',
              assigned_plugin: 'builtin',
              entry_point: { type: 'f', value: 'e' },
              input_context,
            },
          ],
        },
      ],
    });

  it('accepts nesting well within LIMITS.jsonDepth', () => {
    expect(parsePlan(planWith(nested(40))).ok).toBe(true);
  });

  it('rejects JSON nested deeper than LIMITS.jsonDepth and says where', () => {
    const issue = onlyIssue(parsePlan(planWith(nested(LIMITS.jsonDepth))));
    expect(issue.path).toBe('(root)');
    expect(issue.message).toMatch(
      new RegExp(
        `^the document nests deeper than ${LIMITS.jsonDepth} levels \\(at .*phases\\[0\\]\\.tasks\\[0\\]\\.input_context\\.a\\.a`,
      ),
    );
  });

  it('rejects YAML nested deeper than LIMITS.jsonDepth', () => {
    const yaml = `plan_id: p\nx: ${'['.repeat(LIMITS.jsonDepth + 1)}${']'.repeat(LIMITS.jsonDepth + 1)}\n`;
    expect(onlyIssue(parsePlan(yaml)).message).toMatch(/nests deeper than/);
  });

  it('rejects pathologically deep documents without throwing', () => {
    const depth = 100_000;
    for (const text of [
      `a: ${'['.repeat(depth)}${']'.repeat(depth)}`,
      `{"a": ${'['.repeat(depth)}${']'.repeat(depth)}}`,
    ]) {
      const result = parsePlan(text);
      expect(result.ok).toBe(false);
      expect(issuesOf(result)[0]?.path).toBe('(root)');
    }
  });
});

describe('parsePlan: hostile keys', () => {
  it('never lets a "__proto__" key reach a prototype (JSON or YAML)', () => {
    const json =
      '{"plan_id":"p","phases":[{"phase_id":"a","tasks":[{"task_id":"t","assigned_plugin":"b","entry_point":{"type":"f","value":"e"},"input_context":{"__proto__":{"polluted":true},"ok":1}}]}]}';
    const yaml = `plan_id: p\nphases:\n  - phase_id: a\n    tasks:\n      - task_id: t\n        assigned_plugin: b\n        entry_point: { type: f, value: e }\n        input_context: { __proto__: { polluted: true }, ok: 1 }\n`;
    for (const text of [json, yaml]) {
      const result = parsePlan(text);
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      const input = result.plan.phases[0]?.tasks[0]?.input_context as Record<string, unknown>;
      expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
      expect(input.polluted).toBeUndefined();
      expect(input.ok).toBe(1);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects "__proto__" as an unknown field of a plan (JSON or YAML)', () => {
    const json =
      '{"plan_id":"p","__proto__":{"x":1},"phases":[{"phase_id":"a","tasks":[{"task_id":"t","assigned_plugin":"b","entry_point":{"type":"f","value":"e"}}]}]}';
    const yaml =
      'plan_id: p\n__proto__: { x: 1 }\nphases:\n  - phase_id: a\n    tasks: [{ task_id: t, assigned_plugin: b, entry_point: { type: f, value: e } }]\n';
    for (const text of [json, yaml]) {
      expect(onlyIssue(parsePlan(text))).toEqual({
        path: '__proto__',
        message:
          'unknown field "__proto__"; the fields here are plan_id, description, on_partial_failure, phases',
      });
    }
  });
});

describe('parsePlan never throws', () => {
  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const result = parsePlan(text);
        return result.ok || result.issues.every((issue) => issue.path.length > 0 && issue.message.length > 0);
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = parsePlan(JSON.stringify(value) ?? 'null', 'json');
        return result.ok === false && result.issues.length > 0;
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseDocumentText', () => {
  it('returns the raw value without validating it as a plan', () => {
    expect(parseDocumentText('a: 1\nb: [x, y]\n')).toEqual({ ok: true, value: { a: 1, b: ['x', 'y'] } });
    expect(parseDocumentText('[1, 2]')).toEqual({ ok: true, value: [1, 2] });
  });
});
