// biome-ignore-all lint/suspicious/noTemplateCurlyInString: plan references are written `${...}` on purpose
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { readEvents, signerFromKey } from '@orchestra/bus';
import { MessageIds, Streams } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { stringify } from 'yaml';
import { orchestra, ServiceProcess } from '../support/cli.js';
import { appendForgedRecord, deleteByMsgId, deleteRecord, republishRecord } from '../support/tamper.js';
import { waitFor } from '../support/wait.js';

/**
 * The "Done when" of re-run from failure, the tamper-evident log and stuck-run repair
 * (docs/audit.md), through the `orchestra` binary against `orchestra up` processes whose
 * orchestrator signs with ORCHESTRA_SIGNING_KEY.
 */
describe('audit and recovery through the CLI', () => {
  let server: NatsServerHandle;
  let services: ServiceProcess;
  let dispatcher: ServiceProcess;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let http: Server;
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-audit-e2e-'));
  const seed = new TextDecoder().decode(createUser().getSeed());
  const publicKey = signerFromKey(seed).keyId;
  let env: Record<string, string>;
  /** What the http plugin was asked to run: `execution:task`. */
  const seen: string[] = [];
  let broken = true;

  const write = (name: string, content: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : stringify(content));
    return file;
  };

  beforeAll(async () => {
    http = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const task = JSON.parse(body) as { execution_id: string; task_id: string; input_context: unknown };
        seen.push(`${task.execution_id}:${task.task_id}`);
        const fails = broken && task.task_id === 'fetch';
        response.writeHead(fails ? 400 : 200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            fails ? { error: 'upstream down' } : { task: task.task_id, input: task.input_context },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const plugins = write('plugins.yaml', {
      plugins: [
        {
          name: 'repairable',
          kind: 'http',
          url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
        },
      ],
    });
    server = await startNatsServer();
    services = await ServiceProcess.start('orchestrator,results', server.url, {
      ORCHESTRA_SIGNING_KEY: seed,
    });
    dispatcher = await ServiceProcess.start('dispatcher', server.url, { ORCHESTRA_PLUGINS: plugins });
    env = { NATS_URL: server.url, ORCHESTRA_VERIFY_KEY: publicKey };
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await dispatcher?.stop();
    await services?.stop();
    await server?.stop();
    await new Promise((resolve) => http?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const work = (task_id: string, input_context: Record<string, unknown> = {}) => ({
    task_id,
    assigned_plugin: 'repairable',
    entry_point: { type: 'function', value: 'run' },
    input_context,
  });
  const rerunPlan = (staticInput: number) => ({
    plan_id: 'rerun-e2e',
    on_partial_failure: 'continue',
    phases: [
      { phase_id: 'gather', tasks: [work('fetch'), work('static', { n: staticInput })] },
      {
        phase_id: 'report',
        depends_on_phases: ['gather'],
        tasks: [
          work('uses-fetch', { v: '${gather.fetch.output.task}' }),
          work('uses-static', { v: '${gather.static.output.task}' }),
        ],
      },
    ],
  });
  const ranIn = (id: string) =>
    seen
      .filter((entry) => entry.startsWith(`${id}:`))
      .map((entry) => entry.slice(id.length + 1))
      .sort();

  it('re-runs only the failed task and its dependants once the plugin works, and ends completed', async () => {
    const plan = write('plan.yaml', rerunPlan(1));
    const source = await orchestra(['run', plan, '--id', 'src-1', '--wait', '--json'], env);
    expect(JSON.parse(source.stdout)).toMatchObject({
      status: 'partial',
      summary: { successful: 2, skipped: 2 },
    });
    expect(ranIn('src-1')).toEqual(['fetch', 'static', 'uses-static']);

    broken = false;
    const rerun = await orchestra(['rerun', 'src-1', '--failed', '--id', 'fixed-1', '--wait'], env);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('re-run of src-1: execution fixed-1');
    expect(rerun.stdout).toContain('  reused (2): gather.static, report.uses-static');
    expect(rerun.stdout).toMatch(/ {4}gather.fetch: was skipped in the source\n {4}report.uses-fetch: /);
    expect(rerun.stdout).toMatch(/status: completed/);
    expect(ranIn('fixed-1')).toEqual(['fetch', 'uses-fetch']);

    // A corrected plan: its changed fields are shown before it starts, and only that task and
    // what depends on it run again.
    const corrected = write('corrected.yaml', rerunPlan(2));
    const again = await orchestra(
      ['rerun', 'fixed-1', '--plan', corrected, '--id', 'fixed-2', '--wait', '--json'],
      env,
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'completed', execution_id: 'fixed-2' });
    expect(ranIn('fixed-2')).toEqual(['static', 'uses-static']);
    const shown = await orchestra(['rerun', 'fixed-1', '--plan', corrected, '--id', 'fixed-2'], env);
    expect(shown.stdout).toContain(
      `${corrected} changes 1 task(s) of fixed-1's plan (they run again):\n  gather.static\n    input_context.n: 1 → 2\n`,
    );
    expect(shown.stdout).toContain(
      're-run of fixed-1: execution fixed-2 (already submitted: nothing new started)',
    );
    for (const id of ['src-1', 'fixed-1', 'fixed-2'])
      expect((await orchestra(['verify', id], env)).code).toBe(0);
  });

  it('verifies an untouched log and names the record for each tampering through the JetStream API', async () => {
    const hello = 'examples/hello.yaml';
    const runs = await Promise.all(
      ['t-ok', 't-deleted', 't-forged', 't-replayed'].map((id) =>
        orchestra(['run', hello, '--id', id, '--wait', '--json'], env),
      ),
    );
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0]);
    const ok = await orchestra(['verify', 't-ok'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^✓ t-ok: \d+ records, chain intact, every record signed by a trusted key/);

    const expectNamed = async (id: string, seq: number, problem: string) => {
      const verify = await orchestra(['verify', id], env);
      expect({ code: verify.code, stderr: verify.stderr.trim() }).toEqual({
        code: 1,
        stderr: expect.stringMatching(
          new RegExp(`^✗ ${id}: record \\d+ of \\d+ \\(stream sequence ${seq}\\): ${problem}`),
        ),
      });
    };
    await expectNamed(
      't-deleted',
      await deleteRecord(jsm, Streams.events, 't-deleted', 1),
      'a record before it is missing \\(deleted\\)',
    );
    await expectNamed(
      't-forged',
      await appendForgedRecord(js, jsm, 't-forged'),
      'unsigned: not appended by a holder of the signing key',
    );
    // replay says it too, and fails: its results are recomputed from a log that was tampered with.
    const replay = await orchestra(['replay', 't-forged', '--json'], env);
    expect(replay.code).toBe(1);
    expect(JSON.parse(replay.stdout).verified).toMatchObject({
      ok: false,
      first_problem: { problem: expect.stringMatching(/^unsigned/) },
    });
    const replayed = await republishRecord(js, jsm, 't-replayed', 1);
    await expectNamed(
      't-replayed',
      replayed.seq,
      `re-published: a copy of the record at sequence ${replayed.original}`,
    );
    // The same verdict offline, from an export.
    const file = write('t-forged.jsonl', (await orchestra(['export', 't-forged'], env)).stdout);
    const offline = await orchestra(['verify', '--file', file, '--key', publicKey], {
      NATS_URL: 'nats://127.0.0.1:1',
    });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/unsigned: not appended by a holder of the signing key/);
  });

  it('finds a lost dispatch and a lost retry timer, and --repair brings both to their right end', async () => {
    const late = write('late.yaml', { plugins: [{ name: 'late', kind: 'builtin' }] });
    // A dispatcher of `late` creates its consumer, then goes away: the dispatch waits in the queue.
    const lateWorker = await ServiceProcess.start('dispatcher', server.url, { ORCHESTRA_PLUGINS: late });
    await lateWorker.stop();
    const onePhase = (task: object) => ({ plan_id: 'stuck', phases: [{ phase_id: 'p', tasks: [task] }] });
    const lost = write(
      'lost-dispatch.yaml',
      onePhase({
        task_id: 't',
        assigned_plugin: 'late',
        entry_point: { type: 'function', value: 'echo' },
        input_context: { v: 1 },
        timeout_ms: 120_000,
      }),
    );
    const timer = write(
      'lost-timer.yaml',
      onePhase({
        task_id: 'f',
        assigned_plugin: 'builtin',
        entry_point: { type: 'function', value: 'flaky' },
        input_context: { failures: 1 },
        retries: 1,
        backoff: { initial_ms: 4_000, multiplier: 1, max_ms: 4_000 },
      }),
    );
    await orchestra(['run', lost, '--id', 'stuck-d'], env);
    await orchestra(['run', timer, '--id', 'stuck-t'], env);
    await waitFor(() => deleteByMsgId(jsm, Streams.tasks, MessageIds.dispatch('stuck-d', 't', 1)), {
      what: 'the dispatch to delete',
    });
    await waitFor(() => deleteByMsgId(jsm, Streams.timers, MessageIds.retry('stuck-t', 'f', 2)), {
      what: 'the retry timer to delete',
    });

    const found = await waitFor(
      async () => {
        const doctor = await orchestra(['doctor', '--json'], env);
        const report = JSON.parse(doctor.stdout);
        return report.stuck.length === 2 ? { doctor, report } : undefined;
      },
      { what: 'doctor to find both', timeoutMs: 20_000 },
    );
    expect(found.doctor.code).toBe(1);
    expect(found.report).toMatchObject({ healthy: false, missing_consumers: [] });
    const byId = Object.fromEntries(
      found.report.stuck.map((s: { execution_id: string }) => [s.execution_id, s]),
    );
    expect(byId['stuck-d'].tasks).toEqual([
      expect.objectContaining({
        task_id: 't',
        status: 'running',
        missing: [{ kind: 'dispatch', subject: 'orchestra.tasks.late', msg_id: 'stuck-d:t:1' }],
      }),
    ]);
    expect(byId['stuck-t'].tasks).toEqual([
      expect.objectContaining({
        task_id: 'f',
        status: 'retry_wait',
        attempt_number: 2,
        missing: [expect.objectContaining({ kind: 'retry-timer' })],
      }),
    ]);
    const human = await orchestra(['doctor'], env);
    expect(human.stdout).toMatch(
      /✗ stuck-d \(plan stuck\)\n {4}p\.t: attempt 1 running, but its dispatch stuck-d:t:1 is not on orchestra\.tasks\.late/,
    );
    expect(human.stdout).toContain('run "orchestra doctor --repair" to publish them again');

    const repair = await orchestra(['doctor', '--repair'], env);
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('→ stuck-d: repair sent (t)');
    expect(repair.stdout).toContain('→ stuck-t: repair sent (f)');
    const worker = await ServiceProcess.start('dispatcher', server.url, { ORCHESTRA_PLUGINS: late });
    try {
      const d = JSON.parse((await orchestra(['watch', 'stuck-d', '--json'], env)).stdout);
      expect(d).toMatchObject({
        status: 'completed',
        phases: [{ tasks: [{ status: 'success', attempt_number: 1, output: { v: 1 } }] }],
      });
      const t = JSON.parse((await orchestra(['watch', 'stuck-t', '--json'], env)).stdout);
      expect(t).toMatchObject({
        status: 'completed',
        phases: [{ tasks: [{ status: 'success', attempt_number: 2 }] }],
      });
    } finally {
      await worker.stop();
    }
    const types = (await readEvents(jsm, 'stuck-d')).events.map((stored) => stored.event.type);
    expect(types).toContain('ExecutionRepaired');
    const after = await orchestra(['doctor', 'stuck-d', 'stuck-t'], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('✓ nothing stuck');
    for (const id of ['stuck-d', 'stuck-t']) expect((await orchestra(['verify', id], env)).code).toBe(0);
  });
});
