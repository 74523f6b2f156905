import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, ServiceProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

/** The README's user journey, through the CLI as a child process against `orchestra up`. */
describe('the orchestra CLI against orchestra up', () => {
  let server: NatsServerHandle;
  let services: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startNatsServer();
    services = await ServiceProcess.start('orchestrator,dispatcher,results', server.url);
    env = { NATS_URL: server.url };
  });
  afterAll(async () => {
    await services?.stop();
    await server?.stop();
  });

  it('runs the seed due-diligence example with live progress and ends with execution_results', async () => {
    const run = await orchestra(['run', 'examples/due-diligence.yaml', '--watch', '--id', 'dd-1'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/phase phase-1-data-gathering started/);
    expect(run.stdout).toMatch(/↻ retry as attempt 2/);
    expect(run.stdout).toMatch(/\(fallback\)/);
    expect(run.stdout).toMatch(
      /execution_results:\n {2}execution_id: dd-1\n {2}plan_id: PLAN-2026-02-04-001\n {2}status: completed/,
    );
    expect(run.stdout).toMatch(/summary:\n {4}total_tasks: 8\n {4}successful: 8/);
  });

  it('replays an execution and reports that the recomputed results equal the stored ones', async () => {
    const replay = await orchestra(['replay', 'dd-1', '--json'], env);
    expect(replay.code).toBe(0);
    const report = JSON.parse(replay.stdout);
    expect(report.matches).toBe(true);
    expect(report.recomputed).toEqual(report.stored);
    expect(report.events[0].event.type).toBe('ExecutionStarted');
    const human = await orchestra(['replay', 'dd-1'], env);
    expect(human.stdout).toMatch(/stored execution_results match the recomputed ones/);
  });

  it('prints the execution context with status and only execution_results with run --wait --json', async () => {
    const status = await orchestra(['status', 'dd-1', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      plan_id: 'PLAN-2026-02-04-001',
      state: 'completed',
      current_phase: null,
      completed_phases: ['phase-1-data-gathering', 'phase-2-analysis', 'phase-3-synthesis'],
    });
    const run = await orchestra(['run', 'examples/hello.yaml', '--wait', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plan_id: 'hello', status: 'completed' });
  });

  it('exits 1 for a failed execution and for an invalid plan, naming the problem', async () => {
    const aborted = await orchestra(['run', 'examples/abort.yaml', '--wait', '--json'], env);
    expect(aborted.code).toBe(1);
    expect(JSON.parse(aborted.stdout).status).toBe('failed');
    const invalid = await orchestra(['run', 'examples/invalid/cycle.yaml'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/cycle: collect -> report -> analyse -> collect/);
  });

  it('starts nothing new when the same id is run again, and lists executions', async () => {
    const again = await orchestra(['run', 'examples/due-diligence.yaml', '--id', 'dd-1'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already submitted/);
    const listing = await orchestra(['ls', '--json'], env);
    const ids = JSON.parse(listing.stdout).map((r: { execution_id: string }) => r.execution_id);
    expect(ids).toContain('dd-1');
    expect(ids.filter((id: string) => id === 'dd-1')).toHaveLength(1);
  });

  it('cancels a running execution and reports unknown ids', async () => {
    const file = join(tmpdir(), `long-${process.pid}.yaml`);
    writeFileSync(
      file,
      'plan_id: long\nphases:\n  - phase_id: p\n    tasks:\n      - task_id: wait\n        assigned_plugin: builtin\n' +
        '        entry_point: { type: function, value: sleep }\n        input_context: { ms: 60000 }\n',
    );
    expect((await orchestra(['run', file, '--id', 'to-cancel'], env)).code).toBe(0);
    await waitFor(
      async () => (await orchestra(['status', 'to-cancel', '--json'], env)).stdout.includes('"running"'),
      {
        what: 'the execution to run',
      },
    );
    const cancel = await orchestra(['cancel', 'to-cancel', '--reason', 'changed my mind'], env);
    expect(cancel.code).toBe(0);
    const watched = await orchestra(['watch', 'to-cancel', '--json'], env);
    expect(watched.code).toBe(1);
    expect(JSON.parse(watched.stdout)).toMatchObject({ status: 'cancelled', errors: ['changed my mind'] });
    const unknown = await orchestra(['cancel', 'no-such-execution'], env);
    expect(unknown.code).toBe(1);
    const results = await orchestra(['results', 'no-such-execution'], env);
    expect(results.code).toBe(1);
    expect(results.stderr).toMatch(/no execution_results for no-such-execution/);
  });

  it('exits 2 on a usage error', async () => {
    const usage = await orchestra(['run'], env);
    expect(usage.code).toBe(2);
  });
});
