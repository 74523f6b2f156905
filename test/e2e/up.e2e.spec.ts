import { existsSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { orchestraIn } from '../support/cli.js';
import { isAlive, natsServersOn, scratchDirectory, UpProcess } from '../support/up.js';
import { waitFor } from '../support/wait.js';

// `orchestra up` with its embedded server, run from a directory as the Quick start says: one
// store, one server, whatever else is started from the same directory; and a Ctrl-C at the
// terminal ends it promptly whatever state its server is in.

const HELLO = join(__dirname, '../../examples/hello.yaml');

describe('orchestra up: one embedded server per store', () => {
  let dir: ReturnType<typeof scratchDirectory>;
  const ups: UpProcess[] = [];
  const start = async (...args: Parameters<typeof UpProcess.start>) => {
    const up = await UpProcess.start(...args);
    ups.push(up);
    return up;
  };
  beforeEach(() => {
    dir = scratchDirectory('up');
  });
  afterEach(async () => {
    for (const up of ups.splice(0)) await up.kill();
    dir.remove();
  });

  it('refuses a second up from the same directory, naming the first, which keeps working', async () => {
    const first = await start(dir.path);
    const store = join(dir.path, '.orchestra/nats');
    const second = UpProcess.spawn(dir.path);
    ups.push(second);
    const ended = await second.exitWithin(20_000);
    expect(ended?.code).toBe(1);
    expect(second.logs()).toContain(`orchestra up is already running from ${dir.path} (pid ${first.pid}`);
    expect(second.logs()).toContain(`kill ${first.pid}`);
    expect(natsServersOn(store)).toEqual([first.record().nats_pid]);
    // The commands run from the directory still find the first one's server.
    const run = await orchestraIn(dir.path, ['run', HELLO, '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ plan_id: 'hello', status: 'completed' });
    expect(first.running).toBe(true);
  });

  it('stops the server an up killed with SIGKILL left on the store before starting its own', async () => {
    const crashed = await start(dir.path);
    const orphan = crashed.record().nats_pid;
    process.kill(-crashed.pid, 'SIGKILL');
    await crashed.exited;
    expect(isAlive(orphan)).toBe(true);
    const next = await start(dir.path);
    expect(isAlive(orphan)).toBe(false);
    expect(natsServersOn(join(dir.path, '.orchestra/nats'))).toEqual([next.record().nats_pid]);
    expect(next.logs()).toContain('stopped the nats-server a previous orchestra up left on this store');
    const run = await orchestraIn(dir.path, ['run', HELLO, '--wait', '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed' });
  });

  it('puts the health server on a free port when the default one is taken, and says so', async () => {
    const holder = await holdPort(8080);
    try {
      const up = await start(dir.path, { env: { HEALTH_PORT: '' } });
      const [, port = ''] = /health and metrics on :(\d+) \(:8080 is taken\)/.exec(up.logs()) ?? [];
      expect(Number(port)).toBeGreaterThan(0);
      expect(Number(port)).not.toBe(8080);
      expect(await statusOf(Number(port), '/health/live')).toBe(200);
      // Nothing was logged as an error (pino level 50) on the way.
      expect(up.logs()).not.toMatch(/"level":50/);
    } finally {
      // Held by someone else (another `up` on the machine), it is not ours to close.
      if (holder) await new Promise((done) => holder.close(done));
    }
  });
});

describe('orchestra up: Ctrl-C', () => {
  let dir: ReturnType<typeof scratchDirectory>;
  let up: UpProcess | undefined;
  beforeEach(() => {
    dir = scratchDirectory('ctrl-c');
  });
  afterEach(async () => {
    await up?.kill();
    up = undefined;
    dir.remove();
  });

  /** Interrupts the group and returns how long `up` took to exit, with its server's pid. */
  async function interrupt(started: UpProcess, limitMs: number) {
    const natsPid = started.record().nats_pid;
    const from = Date.now();
    started.interrupt();
    const ended = await started.exitWithin(limitMs);
    if (!ended)
      throw new Error(`orchestra up still runs ${limitMs} ms after Ctrl-C:\n${started.logs().slice(-3000)}`);
    return { ms: ended.at - from, natsPid, code: ended.code, signal: ended.signal };
  }

  it('npx orchestra up stops the services, then its server, and exits within 5 s', async () => {
    up = await UpProcess.start(dir.path, { npx: true });
    const { ms, natsPid, code, signal } = await interrupt(up, 15_000);
    expect(ms).toBeLessThan(5_000);
    // npm exec passes the interrupt on: it ends by SIGINT itself once `orchestra up` has exited.
    expect(code === 0 || signal === 'SIGINT').toBe(true);
    expect(isAlive(natsPid)).toBe(false);
    expect(existsSync(join(dir.path, '.orchestra/up.json'))).toBe(false);
    const logs = up.logs();
    // The services stopped while their server was still there to drain to.
    expect(logs.indexOf('"msg":"stopped"')).toBeGreaterThan(0);
    expect(logs).toContain('orchestra up: stopped');
    expect(logs).not.toMatch(/"level":50/);
  });

  it('stops its server too when the terminal closes (SIGHUP to the group)', async () => {
    up = await UpProcess.start(dir.path);
    const natsPid = up.record().nats_pid;
    process.kill(-up.pid, 'SIGHUP');
    const ended = await up.exitWithin(15_000);
    expect(ended).toBeDefined();
    expect(isAlive(natsPid)).toBe(false);
    expect(existsSync(join(dir.path, '.orchestra/up.json'))).toBe(false);
  });

  it('exits promptly when its server is already gone (kill -9)', async () => {
    up = await UpProcess.start(dir.path);
    process.kill(up.record().nats_pid as number, 'SIGKILL');
    const { ms } = await interrupt(up, 20_000);
    expect(ms).toBeLessThan(10_000);
  });

  it('exits promptly when its server does not answer (stopped with SIGSTOP), killing it', async () => {
    up = await UpProcess.start(dir.path);
    const natsPid = up.record().nats_pid as number;
    process.kill(natsPid, 'SIGSTOP');
    const { ms } = await interrupt(up, 30_000);
    expect(ms).toBeLessThan(15_000);
    await waitFor(() => !isAlive(natsPid), { what: 'the stopped server to be killed' });
  });
});

/** Listens on `port` if it is free; if something else has it, it is taken all the same. */
function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(undefined));
    server.listen(port, () => done(server));
  });
}

function statusOf(port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    httpGet({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    }).once('error', fail);
  });
}
