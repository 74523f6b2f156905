import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, ServiceProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

/** One nats-server and one `orchestra up` for every test of this file (their execution ids differ). */
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

/** The README's user journey, through the CLI as a child process against `orchestra up`. */
describe('the orchestra CLI against orchestra up', () => {
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

  it('labels the columns of the replay timeline', async () => {
    const lines = (await orchestra(['replay', 'dd-1'], env)).stdout.split('\n');
    expect(lines[1]).toMatch(/^ {2}record +after {2}event$/);
    // Each column starts where its label does: the record, the time since the first event, the event.
    expect(lines[2]).toMatch(/^ {2}#\d+ +\+ +0\.000s {2}started plan PLAN-2026-02-04-001/);
    expect(lines[2]?.indexOf('s  started')).toBe((lines[1]?.indexOf('after') ?? 0) + 'after'.length - 1);
  });

  it("keys task_outputs by output_key (the seed's context) and outputs_by_task by task id", async () => {
    const status = JSON.parse((await orchestra(['status', 'dd-1', '--json'], env)).stdout);
    expect(Object.keys(status.task_outputs)).toContain('financials');
    expect(status.task_outputs.financials).toEqual(status.outputs_by_task['task-1a']);
    expect(Object.keys(status.outputs_by_task)).toEqual(expect.arrayContaining(['task-1a', 'task-3b']));
    const human = await orchestra(['status', 'dd-1'], env);
    expect(human.stdout).toMatch(/^ {2}task_outputs:\n {4}financials:\n/m);
    expect(human.stdout).toMatch(/^ {2}outputs_by_task:\n {4}task-1a:\n {6}ms: 900/m);
    // Written out in full, no YAML anchors and aliases (&a1, *a1) for a person to decode.
    expect(human.stdout).not.toMatch(/[&*]a\d/);
  });

  it('refuses another plan under an id that already ran one, exit 1, and says how to pick a new id', async () => {
    const other = await orchestra(['run', 'examples/hello.yaml', '--id', 'dd-1', '--wait'], env);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain(
      'execution id dd-1 already ran a different plan (PLAN-2026-02-04-001, digest ',
    );
    expect(other.stderr).toContain('examples/hello.yaml holds plan hello');
    expect(other.stderr).toContain('choose a new id (`orchestra run examples/hello.yaml --id dd-1-2`)');
    const json = await orchestra(['run', 'examples/hello.yaml', '--id', 'dd-1', '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'ID_IN_USE', message: expect.stringContaining('already ran'), execution_id: 'dd-1' },
    });
  });

  it("refuses it too when the id's first command has only just been submitted", async () => {
    expect((await orchestra(['run', 'examples/hello.yaml', '--id', 'fresh-1'], env)).code).toBe(0);
    const other = await orchestra(['run', 'examples/abort.yaml', '--id', 'fresh-1'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('execution id fresh-1 already ran a different plan (hello, digest ');
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
    // One rule (EXIT_STATUS_HELP): a cancelled execution is exit code 1, whichever command reads it.
    for (const args of [
      ['watch', 'to-cancel'],
      ['results', 'to-cancel'],
      ['results', 'to-cancel', '--json'],
    ]) {
      expect((await orchestra(args, env)).code).toBe(1);
    }
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

/** `run --watch` when stdout is not a terminal (a pipe, a file, CI): plain lines, then the results. */
describe('orchestra run --watch into a pipe', () => {
  it('prints one line per transition, each attempt with its kind and plugin, then exactly what results prints', async () => {
    const run = await orchestra(
      ['run', 'examples/retry-and-fallback.yaml', '--watch', '--id', 'plain-1'],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\x1b');
    const [head, summary] = run.stdout.split('\n\nexecution_results:\n') as [string, string];
    const lines = head.split('\n');
    expect(lines[0]).toBe('execution plain-1');
    for (const line of lines.slice(1)) expect(line).toMatch(/^\+ +\d+\.\d{3}s {2}\S/);
    expect(head).toContain('recover/unserved → attempt 1 (first) on nobody-serves-this');
    expect(head).toContain('recover/unserved ⏱ attempt 1 timed out on nobody-serves-this');
    expect(head).toContain('recover/unserved → attempt 2 (fallback) on builtin');
    expect(head).toMatch(/recover\/flaky-fetch → attempt 2 \(retry\) on builtin/);
    expect(lines.at(-1)).toMatch(/execution completed$/);
    const results = await orchestra(['results', 'plain-1'], env);
    expect(`execution_results:\n${summary}`).toBe(results.stdout);
  });
});

/** A NATS server without Orchestra's streams: say so, and the two ways out. */
describe('the orchestra CLI against a server without Orchestra', () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each([
    ['run', ['run', 'examples/hello.yaml']],
    ['ls', ['ls']],
    ['status', ['status', 'x']],
    ['watch', ['watch', 'x']],
  ])('%s says the server has no Orchestra streams and how to get them', async (_name, args) => {
    const result = await orchestra(args, { NATS_URL: server.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `the NATS server at ${server.url} has no Orchestra streams (NATS_URL is set)`,
    );
    expect(result.stderr).toContain('`npx orchestra up`');
    expect(result.stderr).toContain('`orchestra provision`');
    expect(result.stderr).not.toContain('jetstream is not enabled');
  });

  it('says so in JSON with run --json', async () => {
    const result = await orchestra(['run', 'examples/hello.yaml', '--json'], { NATS_URL: server.url });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error.message).toContain('has no Orchestra streams');
  });
});
