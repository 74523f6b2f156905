import { issuesOf, onlyIssue, phase, plan, task } from '@orchestra/testing';
import { LIMITS } from './limits.js';
import { parsePlan } from './parse.js';
import type { TaskInput } from './plan.js';
import { validatePlan } from './validate.js';

const withTask = (extra: Partial<TaskInput>) => validatePlan(plan([phase('a', [task('t', extra)])]));

describe('bounds on a task', () => {
  it('accepts retries up to LIMITS.retries and rejects more or fewer', () => {
    expect(withTask({ retries: LIMITS.retries }).ok).toBe(true);
    expect(onlyIssue(withTask({ retries: LIMITS.retries + 1 }))).toEqual({
      path: 'phases[0].tasks[0].retries',
      message: `Too big: expected number to be <=${LIMITS.retries}`,
    });
    expect(onlyIssue(withTask({ retries: -1 })).path).toBe('phases[0].tasks[0].retries');
  });

  it('rejects timeout_ms 0, negative or beyond LIMITS.timeoutMs; accepts 1 ms', () => {
    expect(withTask({ timeout_ms: 1 }).ok).toBe(true);
    for (const timeout_ms of [0, -5, LIMITS.timeoutMs + 1, Number.POSITIVE_INFINITY]) {
      expect(onlyIssue(withTask({ timeout_ms })).path).toBe('phases[0].tasks[0].timeout_ms');
    }
    expect(onlyIssue(withTask({ timeout_ms: 0 })).message).toBe('Too small: expected number to be >=1');
  });

  it('bounds the backoff', () => {
    const issues = issuesOf(
      withTask({ backoff: { initial_ms: -1, multiplier: 11, max_ms: LIMITS.backoffMs + 1 } }),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'phases[0].tasks[0].backoff.initial_ms',
      'phases[0].tasks[0].backoff.multiplier',
      'phases[0].tasks[0].backoff.max_ms',
    ]);
  });

  it('rejects an input_context over LIMITS.inputBytes as JSON', () => {
    const big = 'x'.repeat(LIMITS.inputBytes);
    const issue = onlyIssue(withTask({ input_context: { big } }));
    expect(issue).toEqual({
      path: 'phases[0].tasks[0].input_context',
      message: `input_context is ${LIMITS.inputBytes + 10} bytes as JSON; the limit is ${LIMITS.inputBytes}`,
    });
    expect(withTask({ input_context: { big: big.slice(20) } }).ok).toBe(true);
  });

  it('rejects ids longer than LIMITS.idLength', () => {
    expect(withTask({ task_id: 'a'.repeat(LIMITS.idLength) }).ok).toBe(true);
    expect(onlyIssue(withTask({ task_id: 'a'.repeat(LIMITS.idLength + 1) }))).toEqual({
      path: 'phases[0].tasks[0].task_id',
      message: `must be at most ${LIMITS.idLength} characters`,
    });
  });
});

describe('plugin names are one NATS subject token', () => {
  it.each(['builtin', 'finance@cowork', 'data-connector@cowork', 'a_b-9'])('accepts %j', (name) => {
    expect(withTask({ assigned_plugin: name, fallback_plugin: name }).ok).toBe(true);
  });

  it.each(['a.b', 'finance.*', 'tasks.>', '*', '>', 'a b', 'a\tb', ' a', '', '@a', 'a$b'])(
    'rejects %j',
    (name) => {
      const issues = issuesOf(withTask({ assigned_plugin: name, fallback_plugin: name }));
      const paths = new Set(issues.map((issue) => issue.path));
      expect([...paths]).toEqual([
        'phases[0].tasks[0].assigned_plugin',
        'phases[0].tasks[0].fallback_plugin',
      ]);
      if (name !== '') {
        expect(issues[0]?.message).toBe(
          'must be a single NATS subject token: letters, digits, "-", "_" and "@" only (no ".", "*", ">" or spaces)',
        );
      }
    },
  );
});

describe('bounds on a plan', () => {
  const many = (count: number, prefix = 't') =>
    Array.from({ length: count }, (_, i) => task(`${prefix}${i}`));

  it('rejects a phase with more than LIMITS.tasks tasks', () => {
    const issue = onlyIssue(validatePlan(plan([phase('a', many(LIMITS.tasks + 1))])));
    expect(issue).toEqual({
      path: 'phases[0].tasks',
      message: `Too big: expected array to have <=${LIMITS.tasks} items`,
    });
  });

  it('rejects more than LIMITS.tasks tasks across phases', () => {
    const half = Math.ceil((LIMITS.tasks + 1) / 2);
    const issue = onlyIssue(validatePlan(plan([phase('a', many(half, 'a')), phase('b', many(half, 'b'))])));
    expect(issue).toEqual({
      path: 'phases',
      message: `the plan has ${half * 2} tasks; the limit is ${LIMITS.tasks}`,
    });
  });

  it('rejects more than LIMITS.phases phases', () => {
    const phases = Array.from({ length: LIMITS.phases + 1 }, (_, i) => phase(`p${i}`, [task(`t${i}`)]));
    expect(onlyIssue(validatePlan(plan(phases))).path).toBe('phases');
  });
});

describe('validation time grows linearly up to the limits', () => {
  /** One phase of `size` tasks, each depending on the one before, each referencing `target(i)`. */
  const chain = (size: number, target: (i: number) => number) =>
    plan([
      phase(
        'a',
        Array.from({ length: size }, (_, i) =>
          task(
            `t${i}`,
            i === 0 ? {} : { depends_on: [`t${i - 1}`], input_context: { x: `\${a.t${target(i)}.output}` } },
          ),
        ),
      ),
    ]);
  /** The fastest of `runs` runs, in ms: wall-clock time on a shared machine is noisy. */
  const fastest = (run: () => void, runs = 3) =>
    Math.min(
      ...Array.from({ length: runs }, () => {
        const started = performance.now();
        run();
        return performance.now() - started;
      }),
    );
  // Speed itself is the benchmark's to measure (bench/src/validate.ts, docs/performance.md); this
  // only catches a quadratic walk: 8× the tasks cost ~8× the time when linear, 64× when quadratic.
  // The limit between leaves room for a loaded machine's noise on both sides.
  const SMALL = LIMITS.tasks / 8;
  const GROWTH_LIMIT = 24;

  it('checks a depends_on chain of LIMITS.tasks tasks that all reference the first one', () => {
    const document = JSON.stringify(chain(LIMITS.tasks, () => 0));
    expect(Buffer.byteLength(document)).toBeLessThan(LIMITS.planBytes);
    let ok = false;
    const full = fastest(() => {
      ok = parsePlan(document).ok;
    });
    expect(ok).toBe(true);
    const small = JSON.stringify(chain(SMALL, () => 0));
    const growth = full / fastest(() => parsePlan(small), 5);
    expect(growth).toBeLessThan(GROWTH_LIMIT);
  });

  it('rejects a chain where every task references a later one, naming each, in linear time', () => {
    const full = chain(LIMITS.tasks, (i) => (i + 1) % LIMITS.tasks);
    const small = chain(SMALL, (i) => (i + 1) % SMALL);
    let issues = 0;
    const time = fastest(() => {
      issues = issuesOf(validatePlan(full)).length;
    });
    expect(issues).toBe(LIMITS.tasks - 2);
    const growth = time / fastest(() => validatePlan(small), 5);
    expect(growth).toBeLessThan(GROWTH_LIMIT);
  });
});
