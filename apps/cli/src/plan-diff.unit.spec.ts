import { type PlanInput, validatePlan } from '@orchestra/contracts';
import { phase, plan, task } from '@orchestra/testing';
import { describeChange, diffPlans } from './plan-diff.js';

/** `orchestra rerun --plan`: what a corrected plan changes, field by field. */
describe('the diff of a corrected plan against the source plan', () => {
  const valid = (input: PlanInput) => {
    const result = validatePlan(input);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.plan;
  };
  const source = valid(
    plan([
      phase('gather', [task('fetch', { input_context: { url: 'http://old', n: 1 } }), task('static')]),
      phase('report', [task('write')], { depends_on_phases: ['gather'] }),
    ]),
  );

  it('names nothing for the same plan, even with its defaults written out', () => {
    const same = valid(
      plan([
        phase('gather', [
          task('fetch', { input_context: { url: 'http://old', n: 1 }, retries: 0, timeout_ms: 60_000 }),
          task('static', { description: '' }),
        ]),
        phase('report', [task('write')], { depends_on_phases: ['gather'] }),
      ]),
    );
    expect(diffPlans(source, same)).toEqual({ sameTasks: true, tasks: [], plan: [] });
  });

  it('shows each changed field of each changed task, nested fields by their path', () => {
    const corrected = valid(
      plan([
        phase('gather', [
          task('fetch', { input_context: { url: 'http://new', n: 1 }, retries: 2 }),
          task('static'),
        ]),
        phase('report', [task('write', { fallback_plugin: 'backup' })], {
          depends_on_phases: ['gather'],
          execution_mode: 'sequential',
        }),
      ]),
    );
    const diff = diffPlans(source, corrected);
    expect(diff.sameTasks).toBe(true);
    expect(diff.tasks.map((change) => [change.task, change.fields.map(describeChange)])).toEqual([
      ['gather.fetch', ['input_context.url: "http://old" → "http://new"', 'retries: 0 → 2']],
      ['report.write', ['fallback_plugin: (absent) → "backup"']],
    ]);
    expect(diff.plan.map(describeChange)).toEqual(['phases[1].execution_mode: "parallel" → "sequential"']);
  });

  it('shows a task moved to another phase, and keys only reordered, which the orchestrator counts as a change', () => {
    const moved = valid(
      plan([
        phase('gather', [task('fetch', { input_context: { n: 1, url: 'http://old' } })]),
        phase('report', [task('static'), task('write')], { depends_on_phases: ['gather'] }),
      ]),
    );
    const diff = diffPlans(source, moved);
    expect(diff.tasks.map((change) => [change.task, change.fields.map(describeChange)])).toEqual([
      // gather.fetch lists its input's keys in another order: no change (a JSON value is the same).
      ['report.static', ['phase: "gather" → "report"']],
    ]);
  });

  it('tells when the task ids differ (the orchestrator refuses such a re-run, naming each)', () => {
    const other = valid(
      plan([phase('gather', [task('fetch'), task('extra')]), phase('report', [task('write')])]),
    );
    expect(diffPlans(source, other).sameTasks).toBe(false);
  });
});
