// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS } from '@orchestra/contracts';
import { REPO_ROOT, run } from './testing/run.js';

const EXAMPLES = ['abort', 'due-diligence', 'hello', 'retry-and-fallback'].map(
  (name) => `examples/${name}.yaml`,
);

describe('orchestra validate: the examples', () => {
  it('accepts every example and says what it holds', async () => {
    const result = await run(['validate', ...EXAMPLES]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      '✓ examples/abort.yaml: plan abort-on-failure is valid (2 phases, 3 tasks)',
      '✓ examples/due-diligence.yaml: plan PLAN-2026-02-04-001 is valid (3 phases, 8 tasks)',
      '✓ examples/hello.yaml: plan hello is valid (1 phase, 2 tasks)',
      '✓ examples/retry-and-fallback.yaml: plan retry-and-fallback is valid (2 phases, 3 tasks)',
    ]);
  });

  it.each([
    [
      'cycle',
      'phases[0].depends_on_phases: phases depend on each other in a cycle: collect -> report -> analyse -> collect',
    ],
    [
      'dangling-reference',
      'phases[1].tasks[0].input_context.prices: reference ${gather.fetch-prices.output} names unknown task "fetch-prices"',
    ],
    [
      'duplicate-id',
      'phases[1].tasks[0].task_id: duplicate task id "task-1" (first used at phases[0].tasks[0]); task ids must be unique in the whole plan',
    ],
  ])('rejects examples/invalid/%s.yaml with the path and the names involved', async (name, line) => {
    const result = await run(['validate', `examples/invalid/${name}.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`✗ examples/invalid/${name}.yaml\n  ${line}\n`);
  });

  it('reports valid and invalid files together and fails if any is invalid', async () => {
    const result = await run(['validate', 'examples/hello.yaml', 'examples/invalid/cycle.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✓ examples/hello.yaml');
    expect(result.stderr).toContain('✗ examples/invalid/cycle.yaml');
  });

  it('prints a JSON array with --json', async () => {
    const result = await run([
      'validate',
      '--json',
      'examples/hello.yaml',
      'examples/invalid/duplicate-id.yaml',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([
      { file: 'examples/hello.yaml', valid: true, plan_id: 'hello' },
      {
        file: 'examples/invalid/duplicate-id.yaml',
        valid: false,
        issues: [
          {
            path: 'phases[1].tasks[0].task_id',
            message: expect.stringContaining('duplicate task id "task-1"'),
          },
        ],
      },
    ]);
  });

  it('resolves relative paths against the working directory', async () => {
    const result = await run(['validate', 'hello.yaml'], join(REPO_ROOT, 'examples'));
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('✓ hello.yaml: plan hello') });
  });
});

describe('orchestra validate: files', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestra-validate-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads JSON plans', async () => {
    const plan = {
      plan_id: 'from-json',
      phases: [
        {
          phase_id: 'a',
          tasks: [
            { task_id: 't', assigned_plugin: 'builtin', entry_point: { type: 'function', value: 'echo' } },
          ],
        },
      ],
    };
    const result = await run(['validate', file('plan.json', JSON.stringify(plan))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('plan from-json is valid (1 phase, 1 task)');
  });

  it('reads a .json file as JSON, whatever it starts with', async () => {
    const result = await run(['validate', file('yaml-in-disguise.json', 'plan_id: x\n')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ {2}\(root\): invalid JSON: /m);
  });

  it('shows YAML syntax errors with their line', async () => {
    const result = await run(['validate', file('broken.yaml', 'plan_id: p\nphases: [\n')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ {2}\(root\): invalid YAML: .* at line \d+, column \d+/);
  });

  it('lists every issue of a plan, one per line', async () => {
    const text =
      'plan_id: p\nphases:\n  - phase_id: a\n    tasks:\n      - task_id: t\n        assigned_plugin: a.b\n        entry_point: { type: function }\n        retries: 99\n';
    const result = await run(['validate', file('many.yaml', text)]);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  '))).toEqual([
      expect.stringMatching(
        /^ {2}phases\[0\]\.tasks\[0\]\.assigned_plugin: must be a single NATS subject token/,
      ),
      '  phases[0].tasks[0].entry_point.value: missing required field (expected string)',
      '  phases[0].tasks[0].retries: Too big: expected number to be <=20',
    ]);
  });

  it('fails with exit code 1 and a clear message for a missing file', async () => {
    const result = await run(['validate', 'examples/nope.yaml']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: '✗ examples/nope.yaml\n  (file): no such file\n' });
    const json = await run(['validate', '--json', 'examples/nope.yaml']);
    expect(JSON.parse(json.stdout)).toEqual([
      { file: 'examples/nope.yaml', valid: false, issues: [{ path: '(file)', message: 'no such file' }] },
    ]);
  });

  it('refuses a directory and a file over LIMITS.planBytes without reading it', async () => {
    expect((await run(['validate', dir])).stderr).toContain('(file): not a regular file');
    const big = file('big.yaml', `plan_id: p\ndescription: "${'x'.repeat(LIMITS.planBytes)}"\n`);
    const result = await run(['validate', big]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(file\): the file is \d+ bytes; the limit is 4194304/);
  });
});

describe('orchestra validate: every problem in one pass', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestra-one-pass-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Bounds, an unknown field and two bad references in one plan: all listed at once, by path.
  const PLAN = [
    'plan_id: one-pass',
    'phases:',
    '  - phase_id: gather',
    '    tasks:',
    '      - task_id: fetch',
    '        assigned_plugin: builtin',
    '        entry_point: { type: function, value: echo }',
    '        retries: 99',
    '        timeout_ms: -5',
    '        retires: 2',
    '  - phase_id: report',
    '    depends_on_phases: [gather]',
    '    tasks:',
    '      - task_id: write',
    '        assigned_plugin: builtin',
    '        entry_point: { type: function, value: echo }',
    '        input_context:',
    '          numbers: "${gather.fetsh.output}"',
    '          notes: "${notes.fetch.output}"',
  ].join('\n');

  it('lists bounds, unknown fields and references together, sorted by path, with the nearest field', async () => {
    const path = join(dir, 'plan.yaml');
    writeFileSync(path, PLAN);
    const result = await run(['validate', path]);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  '))).toEqual([
      '  phases[0].tasks[0].retries: Too big: expected number to be <=20',
      '  phases[0].tasks[0].timeout_ms: Too small: expected number to be >=1',
      '  phases[0].tasks[0].retires: unknown field "retires"; did you mean "retries"?',
      '  phases[1].tasks[0].input_context.notes: reference ${notes.fetch.output} names unknown phase "notes"',
      '  phases[1].tasks[0].input_context.numbers: reference ${gather.fetsh.output} names unknown task "fetsh"',
    ]);
  });

  it('run --wait --json prints the problems as a JSON error object on stdout, exit code 1', async () => {
    const path = join(dir, 'plan.yaml');
    writeFileSync(path, PLAN);
    const result = await run(['run', path, '--wait', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const { error } = JSON.parse(result.stdout);
    expect(error).toMatchObject({ code: 'VALIDATION', message: `${path}: invalid plan, 5 problem(s)` });
    expect(error.issues).toHaveLength(5);
    expect(error.issues[0]).toEqual({
      path: 'phases[0].tasks[0].retries',
      message: 'Too big: expected number to be <=20',
    });
  });

  it('run without --json keeps the human lines on stderr and nothing on stdout', async () => {
    const result = await run(['run', 'examples/invalid/cycle.yaml', '--wait']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain('✗ examples/invalid/cycle.yaml');
  });
});
