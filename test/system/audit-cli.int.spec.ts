import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { noopLogger, signerFromKey } from '@orchestra/bus';
import { openConsole } from '@orchestra/cli';
import { Streams } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestraInProcess } from '../support/cli-in-process.js';
import { InProcessSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';

/**
 * `orchestra verify`, `export`, `replay --json`'s verdict, `rerun` and `doctor` through the CLI's
 * main against a real nats-server and the services (the orchestrator signing its log), with the
 * bad input of docs/audit.md: each a clear error, exit code 1, and nothing stored on the bus.
 */
describe('the audit commands of the CLI', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let jsm: JetStreamManager;
  const seed = new TextDecoder().decode(createUser().getSeed());
  const publicKey = signerFromKey(seed).keyId;
  // A directory of its own: no .orchestra/ key of the repository is trusted by accident.
  const cwd = mkdtempSync(join(tmpdir(), 'orchestra-audit-cli-'));
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    orchestraInProcess(args, cwd, { ...env, ...extra });

  const partialPlan = {
    plan_id: 'audit-cli',
    on_partial_failure: 'continue',
    phases: [
      {
        phase_id: 'p',
        tasks: [
          {
            task_id: 'ok',
            assigned_plugin: 'builtin',
            entry_point: { type: 'function', value: 'echo' },
            input_context: { v: 1 },
          },
          {
            task_id: 'bad',
            assigned_plugin: 'builtin',
            entry_point: { type: 'function', value: 'fail' },
            input_context: { message: 'no' },
          },
        ],
      },
    ],
  };

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server, noopLogger, { signingKey: seed }).start();
    jsm = await jetstreamManager(system.client);
    env = { NATS_URL: server.url, ORCHESTRA_VERIFY_KEY: publicKey };
    await system.execute(partialPlan, 'cli-1');
    expect((await system.finalResults('cli-1')).status).toBe('partial');
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  /** What the bus holds that a refused command could have changed. */
  async function busState() {
    const [commands, events] = await Promise.all([
      jsm.streams.info(Streams.commands),
      jsm.streams.info(Streams.events),
    ]);
    return { commands: commands.state.last_seq, events: events.state.last_seq };
  }

  it('verifies a signed execution and says so in replay --json', async () => {
    const verify = await cli(['verify', 'cli-1']);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      new RegExp(
        `✓ cli-1: \\d+ records, chain intact, every record signed by a trusted key \\(${publicKey}\\)`,
      ),
    );
    expect(verify.stdout).toContain('the log ends with the execution’s end');
    const replay = await cli(['replay', 'cli-1', '--json']);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout).verified).toMatchObject({
      ok: true,
      signatures_checked: true,
      ends_with_finish: true,
    });
    expect((await cli(['replay', 'cli-1'])).stdout).toMatch(
      /the log's chain verifies: \d+ records, each signed by the trusted key/,
    );
  });

  it('exports the log and verifies the file offline, without NATS', async () => {
    const exported = await cli(['export', 'cli-1']);
    expect(exported.code).toBe(0);
    const file = join(cwd, 'audit.jsonl');
    writeFileSync(file, exported.stdout);
    const header = JSON.parse(exported.stdout.split('\n')[0] as string);
    expect(header).toMatchObject({ format: 'orchestra-audit', version: 1, execution_id: 'cli-1' });
    // No server at this address: the check must not need one.
    const offline = { NATS_URL: 'nats://127.0.0.1:1' };
    // The key may be given as a file that holds it.
    writeFileSync(join(cwd, 'signer.pub'), `${publicKey}\n`);
    const verify = await orchestraInProcess(
      ['verify', '--file', 'audit.jsonl', '--key', 'signer.pub', '--json'],
      cwd,
      offline,
    );
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      ok: true,
      execution_id: 'cli-1',
      records: header.records,
      signatures_verified: header.records,
    });
  });

  it('refuses a corrupt or truncated file, a wrong or unreadable key, and a missing key, with exit code 1', async () => {
    const text = readFileSync(join(cwd, 'audit.jsonl'), 'utf8');
    writeFileSync(join(cwd, 'truncated.jsonl'), text.slice(0, text.length - 30));
    writeFileSync(join(cwd, 'short.jsonl'), `${text.split('\n').slice(0, -2).join('\n')}\n`);
    writeFileSync(join(cwd, 'corrupt.jsonl'), text.replace('"seq":', '"seq":"x"'));
    const other = signerFromKey(new TextDecoder().decode(createUser().getSeed())).keyId;
    const cases: [string[], RegExp][] = [
      [
        ['verify', '--file', 'truncated.jsonl', '--key', publicKey],
        /^truncated\.jsonl: line \d+: not JSON \(the file is cut off inside it: truncated\)$/,
      ],
      [
        ['verify', '--file', 'short.jsonl', '--key', publicKey],
        /^short\.jsonl: truncated: the header announces \d+ records, the file holds \d+$/,
      ],
      [['verify', '--file', 'corrupt.jsonl', '--key', publicKey], /^corrupt\.jsonl: line 2: /],
      [['verify', '--file', 'missing.jsonl', '--key', publicKey], /^cannot read missing\.jsonl: ENOENT$/],
      [
        ['verify', '--file', 'audit.jsonl', '--key', other],
        new RegExp(
          `^✗ cli-1: record 1 of \\d+ \\(stream sequence \\d+\\): signed by a key that is not trusted \\(${publicKey}\\)$`,
        ),
      ],
      [
        ['verify', 'cli-1', '--key', 'not-a-key'],
        /^--key not-a-key: the public key must be an nkey public key/,
      ],
      [
        ['export', 'no-such-run'],
        /^no execution no-such-run: no events stored \(never started, or past the events' retention\)$/,
      ],
      [['verify', 'no-such-run'], /^no execution no-such-run: no events stored/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(run.stderr.trim()).toMatch(message);
    }
    const keyless = await orchestraInProcess(['verify', 'cli-1'], cwd, { NATS_URL: server.url });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toMatch(
      /no public key to check the signatures with: pass --key <public key> or set ORCHESTRA_VERIFY_KEY/,
    );
    const chainOnly = await orchestraInProcess(['verify', 'cli-1', '--chain-only'], cwd, {
      NATS_URL: server.url,
    });
    expect(chainOnly.code).toBe(0);
    expect(chainOnly.stdout).toContain('signatures NOT checked (--chain-only)');
  });

  it('refuses a re-run of an unknown or still-running execution, or with other task ids, storing nothing', async () => {
    await system.execute(
      {
        plan_id: 'slow',
        phases: [
          {
            phase_id: 'p',
            tasks: [
              {
                task_id: 's',
                assigned_plugin: 'builtin',
                entry_point: { type: 'function', value: 'sleep' },
                input_context: { ms: 60_000 },
              },
            ],
          },
        ],
      },
      'cli-running',
    );
    await waitFor(async () => (await system.results('cli-running'))?.status === 'running', {
      what: 'cli-running to run',
    });
    writeFileSync(
      join(cwd, 'other-ids.json'),
      JSON.stringify({
        ...partialPlan,
        phases: [
          {
            ...partialPlan.phases[0],
            tasks: [
              partialPlan.phases[0]?.tasks[0],
              { ...partialPlan.phases[0]?.tasks[1], task_id: 'renamed' },
            ],
          },
        ],
      }),
    );
    const before = await busState();
    const cases: [string[], string[]][] = [
      [
        ['rerun', 'no-such-run'],
        ['✗ execution "no-such-run" has no events (never started, or past the events\' retention)'],
      ],
      [
        ['rerun', 'cli-running', '--failed'],
        ['✗ execution "cli-running" is still running: cancel it or wait for its end'],
      ],
      [
        ['rerun', 'cli-1', '--plan', 'other-ids.json'],
        [
          '✗ cannot re-run "cli-1": 2 problem(s)',
          '  tasks.renamed: is not a task of the source execution',
          "  tasks.bad: is missing: a re-run keeps the source's task ids",
        ],
      ],
      [
        ['rerun', 'cli-1', '--task', 'p.nope'],
        [
          '✗ cannot re-run "cli-1": 1 problem(s)',
          '  tasks.p.nope: names no task of the plan (expected "<phase_id>.<task_id>")',
        ],
      ],
    ];
    for (const [args, lines] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code, stdout: run.stdout, stderr: run.stderr.trimEnd().split('\n') }).toEqual({
        args,
        code: 1,
        stdout: '',
        stderr: lines,
      });
    }
    expect(await busState()).toEqual(before);
  });

  it('serves a console that trusts ORCHESTRA_VERIFY_KEY: its replay check verifies every signature', async () => {
    const output: string[] = [];
    const io = {
      stdout: { write: (text: string) => output.push(text) },
      stderr: { write: () => true },
      cwd,
      env,
    };
    const cli = { io, exitCode: 0 as const, out: (line: string) => output.push(line), err: () => undefined };
    const web = await openConsole(cli, { connection: await system.connect(), natsUrl: server.url, port: 0 });
    try {
      const check = await (await fetch(`${web.url}api/executions/cli-1/replay`)).json();
      expect(check).toMatchObject({ matches: true, chain: { ok: true, signatures_checked: true } });
      expect(check.chain.signatures_verified).toBe(check.chain.records);
    } finally {
      await web.close();
    }
  });

  it('finds nothing stuck in a healthy system', async () => {
    const doctor = await cli(['doctor', '--json']);
    expect(doctor.stderr).toBe('');
    const report = JSON.parse(doctor.stdout);
    expect(report).toMatchObject({ healthy: true, stuck: [], missing_consumers: [], repairs: [] });
    expect(report.running).toBeGreaterThanOrEqual(1);
    expect(doctor.code).toBe(0);
    await system.client.request(
      'orchestra.api.cancel',
      new TextEncoder().encode(JSON.stringify({ execution_id: 'cli-running' })),
    );
  });
});
