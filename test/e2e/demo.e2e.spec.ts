import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliRun, orchestraIn, REPO_ROOT } from '../support/cli.js';
import { isAlive, natsServersOn, scratchDirectory, UpProcess } from '../support/up.js';

// `npm run demo` (scripts/demo.mjs) does what the README's Quick start says it does, from the
// directory it is run in: on its own, or next to an `orchestra up` already running there.

const DEMO = join(REPO_ROOT, 'scripts/demo.mjs');

function demo(cwd: string): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', HEALTH_PORT: '0' };
  delete env.NATS_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [DEMO],
      { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The `npx orchestra <command>` lines of the README's Quick start, up to the demo itself. */
function quickStartCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('npm run demo'));
  return [...new Set([...section.matchAll(/npx orchestra (up|[a-z]+)/g)].map((match) => match[1] as string))];
}

describe('npm run demo', () => {
  let dir: ReturnType<typeof scratchDirectory>;
  let up: UpProcess | undefined;
  beforeEach(() => {
    dir = scratchDirectory('demo');
  });
  afterEach(async () => {
    await up?.kill();
    up = undefined;
    dir.remove();
  });

  it('runs every command of the Quick start, then stops what it started', async () => {
    const result = await demo(dir.path);
    expect(result.code).toBe(0);
    const commands = quickStartCommands();
    expect(commands).toEqual(['up', 'run', 'replay', 'status', 'ls']);
    for (const command of commands)
      expect(result.stdout).toMatch(new RegExp(`^\\$ npx orchestra ${command}`, 'm'));
    const [, id = ''] = /--watch --id (demo-\w+)/.exec(result.stdout) ?? [];
    expect(result.stdout).toMatch(/execution completed\n\nexecution_results:/);
    expect(result.stdout).toContain('stored execution_results match the recomputed ones');
    expect(result.stdout).toMatch(/^execution_context:\n {2}execution_id: demo-\w+/m);
    expect(result.stdout).toMatch(new RegExp(`^${id} +completed +PLAN-2026-02-04-001`, 'm'));
    expect(result.stdout).toContain('orchestra up: stopped');
    expect(natsServersOn(join(dir.path, '.orchestra/nats'))).toEqual([]);
    expect(existsSync(join(dir.path, '.orchestra/up.json'))).toBe(false);
  });

  it('uses the orchestra up already running from the directory, and leaves it running', async () => {
    up = await UpProcess.start(dir.path);
    const natsPid = up.record().nats_pid;
    const result = await demo(dir.path);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `using the orchestra up already running from this directory (pid ${up.pid}); it keeps running`,
    );
    expect(result.stdout).not.toContain('$ npx orchestra up');
    expect(up.running).toBe(true);
    expect(isAlive(natsPid)).toBe(true);
    expect(natsServersOn(join(dir.path, '.orchestra/nats'))).toEqual([natsPid]);
    const listing = await orchestraIn(dir.path, ['ls', '--json']);
    expect(JSON.parse(listing.stdout)).toHaveLength(1);
  });
});
