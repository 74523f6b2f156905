// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose
import { jetstream } from '@nats-io/jetstream';
import { noopLogger, type RunningService, readEvents } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { type DispatchTask, type JsonValue, OrchestraError, type PlanInput } from '@orchestra/contracts';
import { startDispatcher } from '@orchestra/dispatcher';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';

/**
 * Re-run from failure through the bus: a run whose `fetch` task fails on a broken plugin ends
 * partial; once the plugin works, a re-run runs only that task and what depends on it, reuses the
 * rest (never dispatched), and ends completed.
 */
describe('re-run from failure', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let client: OrchestraClient;
  let dispatcher: RunningService;
  let broken = true;
  const seen: string[] = [];
  const plugin = {
    name: 'repairable',
    async run(task: DispatchTask): Promise<JsonValue> {
      seen.push(`${task.execution_id}:${task.task_id}`);
      if (broken && task.task_id === 'fetch') throw new Error('upstream down');
      return { task: task.task_id, input: task.input_context };
    },
  };
  const work = (task_id: string, input_context: Record<string, string> = {}) => ({
    task_id,
    assigned_plugin: 'repairable',
    entry_point: { type: 'function', value: 'run' },
    input_context,
  });
  const plan: PlanInput = {
    plan_id: 'rerun-demo',
    phases: [
      { phase_id: 'gather', tasks: [work('fetch'), work('static')] },
      {
        phase_id: 'report',
        depends_on_phases: ['gather'],
        tasks: [
          work('uses-fetch', { v: '${gather.fetch.output.task}' }),
          work('uses-static', { v: '${gather.static.output.task}' }),
        ],
      },
    ],
  };

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start(['orchestrator', 'results']);
    dispatcher = await startDispatcher({
      connection: await system.connect(),
      logger: noopLogger,
      plugins: [plugin],
      provision: false,
    });
    client = await OrchestraClient.using(await system.connect());
  });
  afterAll(async () => {
    await dispatcher?.stop();
    await system?.stop();
    await server?.stop();
  });

  it('runs only the failed task and its dependants, reusing the rest, and ends completed', async () => {
    await system.execute(plan, 'src-partial');
    const source = await system.finalResults('src-partial');
    expect(source.status).toBe('partial');
    broken = false;
    seen.length = 0;

    const reply = await client.request<{
      execution_id: string;
      reused: string[];
      run_again: { task: string; why: string }[];
    }>('rerun', { source_execution_id: 'src-partial', execution_id: 'rerun-1' });
    expect(reply).toMatchObject({
      execution_id: 'rerun-1',
      rerun_of: 'src-partial',
      reused: ['gather.static', 'report.uses-static'],
      run_again: [
        { task: 'gather.fetch', why: 'was skipped in the source' },
        { task: 'report.uses-fetch', why: 'was skipped in the source' },
      ],
    });
    const results = await system.finalResults('rerun-1');
    expect(results.status).toBe('completed');
    expect(results.rerun_of).toBe('src-partial');
    expect(seen.sort()).toEqual(['rerun-1:fetch', 'rerun-1:uses-fetch']);
    const tasks = Object.fromEntries(results.phases.flatMap((p) => p.tasks.map((t) => [t.task_id, t])));
    const { events } = await readEvents(jetstream(system.client), 'src-partial');
    const staticSeq = events.find(
      (e) => e.event.type === 'TaskSucceeded' && e.event.task_id === 'static',
    )?.seq;
    expect(tasks.static).toMatchObject({
      status: 'success',
      attempts: [],
      reused_from: { execution_id: 'src-partial', seq: staticSeq },
    });
    expect(tasks['uses-fetch']?.output).toEqual({ task: 'uses-fetch', input: { v: 'fetch' } });
  });

  it('refuses a re-run of an unknown or running execution, or with other task ids, storing nothing', async () => {
    await expect(client.request('rerun', { source_execution_id: 'nobody' })).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(/^execution "nobody" has no events/),
    });
    const other = { ...plan, phases: [{ phase_id: 'gather', tasks: [work('fetch')] }] };
    const refused = await client
      .request('rerun', { source_execution_id: 'src-partial', plan: other })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OrchestraError);
    expect((refused as OrchestraError).message).toBe('cannot re-run "src-partial": 3 problem(s)');
    const unknownTask = await client
      .request('rerun', { source_execution_id: 'src-partial', tasks: ['gather.nope'] })
      .catch((e: unknown) => e);
    expect((unknownTask as OrchestraError).code).toBe('VALIDATION');
  });
});
