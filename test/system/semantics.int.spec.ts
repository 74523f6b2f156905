import { OrchestraClient } from '@orchestra/client';
import type { ExecutionResults, PlanInput, TaskInput } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';

/** Every semantic of README "Plans", through the bus, with the real services and a real nats-server. */
const task = (
  task_id: string,
  value: string,
  input_context: Record<string, unknown> = {},
  extra: Partial<TaskInput> = {},
) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value },
  input_context,
  ...extra,
});
const plan = (plan_id: string, phases: PlanInput['phases'], extra: Partial<PlanInput> = {}): PlanInput => ({
  plan_id,
  phases,
  ...extra,
});
const taskOf = (results: ExecutionResults, task_id: string) =>
  results.phases.flatMap((phase) => phase.tasks).find((t) => t.task_id === task_id);

describe('semantics through the bus', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let client: OrchestraClient;
  let counter = 0;
  const run = async (p: PlanInput | unknown, timeoutMs?: number) => {
    const id = `sem-${++counter}`;
    await system.execute(p, id);
    return { id, results: await system.finalResults(id, timeoutMs) };
  };

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start();
    client = await OrchestraClient.using(await system.connect());
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
  });

  it('retries a flaky task until it succeeds, counting attempts', async () => {
    const { results } = await run(
      plan('retry', [
        {
          phase_id: 'p',
          tasks: [
            task(
              'flaky',
              'flaky',
              { failures: 2 },
              { retries: 2, backoff: { initial_ms: 10, multiplier: 2, max_ms: 50 } },
            ),
          ],
        },
      ]),
    );
    expect(results.status).toBe('completed');
    expect(taskOf(results, 'flaky')).toMatchObject({
      status: 'success',
      attempt_number: 3,
      plugin_used: 'builtin',
    });
  });

  it('falls back after a timeout on a plugin no worker serves', async () => {
    const { results } = await run(
      plan('fallback', [
        {
          phase_id: 'p',
          tasks: [
            {
              ...task('t', 'echo', { hello: 'world' }),
              assigned_plugin: 'nobody-serves-this',
              timeout_ms: 300,
              fallback_plugin: 'builtin',
            },
          ],
        },
      ]),
    );
    expect(results.status).toBe('completed');
    expect(taskOf(results, 't')).toMatchObject({
      status: 'success',
      plugin_used: 'builtin',
      attempt_number: 2,
      output: { hello: 'world' },
    });
  });

  it('continues past an exhausted task under continue and ends partial', async () => {
    const { results } = await run(
      plan('continue', [
        { phase_id: 'a', tasks: [task('bad', 'fail', { message: 'nope' }), task('good', 'echo')] },
        { phase_id: 'b', depends_on_phases: ['a'], tasks: [task('after', 'echo')] },
      ]),
    );
    expect(results.status).toBe('partial');
    expect(taskOf(results, 'bad')).toMatchObject({ status: 'skipped', error: 'nope' });
    expect(taskOf(results, 'after')?.status).toBe('success');
    expect(results.summary).toEqual({ total_tasks: 3, successful: 2, failed: 0, skipped: 1, timeout: 0 });
  });

  it('aborts under abort: the failed task ends failed and nothing after it runs', async () => {
    const { results } = await run(
      plan(
        'abort',
        [
          { phase_id: 'a', tasks: [task('bad', 'fail'), task('slow', 'sleep', { ms: 5_000 })] },
          { phase_id: 'b', depends_on_phases: ['a'], tasks: [task('never', 'echo')] },
        ],
        { on_partial_failure: 'abort' },
      ),
    );
    expect(results.status).toBe('failed');
    expect(taskOf(results, 'bad')?.status).toBe('failed');
    expect(taskOf(results, 'slow')?.status).toBe('skipped');
    expect(taskOf(results, 'never')?.status).toBe('skipped');
  });

  it('runs a sequential phase in listed order, passing outputs by reference', async () => {
    const { id, results } = await run(
      plan('sequential', [
        {
          phase_id: 's',
          execution_mode: 'sequential',
          tasks: [
            task('one', 'sleep', { ms: 50, n: 1 }),
            task('two', 'echo', { prev: '${s.one.output.n}' }),
            task('three', 'echo', { text: 'after ${s.two.output.prev}' }),
          ],
        },
      ]),
    );
    expect(results.status).toBe('completed');
    expect(taskOf(results, 'three')?.output).toEqual({ text: 'after 1' });
    const dispatched = (await client.events(id))
      .map((stored) => stored.event)
      .filter((event) => event.type === 'TaskDispatched')
      .map((event) => ('task_id' in event ? event.task_id : ''));
    expect(dispatched).toEqual(['one', 'two', 'three']);
  });

  it('cancels a running execution', async () => {
    const id = `sem-cancel-${++counter}`;
    await system.execute(
      plan('cancel', [{ phase_id: 'p', tasks: [task('long', 'sleep', { ms: 30_000 })] }]),
      id,
    );
    await waitFor(async () => (await system.results(id))?.status === 'running', { what: 'the run to start' });
    await client.cancel(id, 'test');
    const results = await system.finalResults(id);
    expect(results.status).toBe('cancelled');
    expect(taskOf(results, 'long')?.status).toBe('skipped');
  });

  it('starts nothing new when the same execution id is submitted again', async () => {
    const p = plan('idempotent', [{ phase_id: 'p', tasks: [task('once', 'echo')] }]);
    const first = await client.submit(p, 'sem-idem');
    const second = await client.submit(p, 'sem-idem');
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    await system.finalResults('sem-idem');
    const started = (await client.events('sem-idem')).filter(
      (stored) => stored.event.type === 'ExecutionStarted',
    );
    expect(started).toHaveLength(1);
  });

  it('runs a plan whose first event is larger than one message: the record goes through the object store', async () => {
    // ExecutionStarted, with every default filled in, is over the default 1 MB max_payload.
    const tasks = Array.from({ length: 4_500 }, (_, i) => ({
      task_id: `t${i}`,
      assigned_plugin: 'builtin',
      entry_point: { type: 'function', value: 'echo' },
      input_context: { i },
    }));
    const { id, results } = await run(plan('wide', [{ phase_id: 'p', tasks }]), 120_000);
    expect(results.status).toBe('completed');
    expect(results.summary.successful).toBe(4_500);
    expect(results.phases[0]?.tasks[4_499]?.output).toEqual({ i: 4_499 });
    expect((await client.replay(id)).matches).toBe(true);
  }, 180_000);

  it('stores results larger than one message whole, through the object store, and replay agrees', async () => {
    const big = 'x'.repeat(250 * 1024);
    const { id, results } = await run(
      plan('big-results', [
        { phase_id: 'a', tasks: [task('source', 'echo', { big })] },
        {
          phase_id: 'b',
          depends_on_phases: ['a'],
          tasks: ['r1', 'r2', 'r3', 'r4'].map((t) => task(t, 'echo', { copy: '${a.source.output.big}' })),
        },
      ]),
    );
    expect(results.status).toBe('completed');
    expect(results.omitted).toBeUndefined();
    for (const copy of results.phases[1]?.tasks ?? []) expect(copy.output).toEqual({ copy: big });
    const replay = await client.replay(id);
    expect(replay.matches).toBe(true);
  });

  it('rejects an invalid plan with a rejection event naming the problems', async () => {
    const { id, results } = await run({
      plan_id: 'bad',
      phases: [{ phase_id: 'p', tasks: [{ task_id: 't' }] }],
    });
    expect(results.status).toBe('rejected');
    const [stored] = await client.events(id);
    expect(stored?.event.type).toBe('ExecutionRejected');
    expect(results.errors.join('\n')).toMatch(/phases\[0\]\.tasks\[0\]\.assigned_plugin/);
  });
});
