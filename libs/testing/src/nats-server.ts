import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort } from '@orchestra/bus';

/**
 * Starts real nats-server processes for integration tests, each on free ports with its own
 * store directory, so a test can kill -9 and restart the server it owns (never the system one).
 */
export interface NatsServerOptions {
  /** Extra command-line arguments, appended after the defaults. */
  args?: string[];
  /** A server configuration file (`-c`). */
  configFile?: string;
  /** Reuse this store directory instead of a fresh temporary one (it is then never removed). */
  storeDir?: string;
  /** How long to wait for the server to accept connections with JetStream up. Default 20 s. */
  readyTimeoutMs?: number;
  /** Print the server's output on the test's stderr. Default false (it is kept for error messages). */
  verbose?: boolean;
  /** Extra environment variables of the server process (a config file's `$VAR` references). */
  env?: Record<string, string>;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  /** PID of the current process (changes after restart()). */
  readonly pid: number;
  /** SIGTERM, wait for exit, then remove the store directory unless `keepStore`. */
  stop(options?: { keepStore?: boolean }): Promise<void>;
  /** SIGKILL (a crash): the store directory stays, restart() brings the server back on it. */
  kill(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and store directory. */
  restart(): Promise<void>;
  /** The last lines the server printed. */
  output(): string;
}

/**
 * Servers still running, kill -9-ed when the test process exits however it exits. Kept on
 * `process` because Jest evaluates this module once per test file in the same worker.
 */
const LIVE = Symbol.for('orchestra.test.natsServers');
const live = liveServers();

function liveServers(): Set<ChildProcess> {
  const registry = process as unknown as Record<symbol, Set<ChildProcess> | undefined>;
  const existing = registry[LIVE];
  if (existing) return existing;
  const set = new Set<ChildProcess>();
  registry[LIVE] = set;
  const killAll = () => {
    for (const child of set) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  // A test run stopped from outside (SIGINT, SIGTERM) must not leave servers behind either.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  return set;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer();
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'orchestra-nats-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let port = 0;
  let monitorPort = 0;

  const launch = async (): Promise<void> => {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', storeDir];
    if (options.configFile) args.push('-c', options.configFile);
    args.push(...(options.args ?? []));
    const env = options.env ? { ...process.env, ...options.env } : undefined;
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    child = proc;
    live.add(proc);
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (options.verbose) process.stderr.write(text);
      lines.push(...text.split('\n').filter(Boolean));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', () => live.delete(proc));
    await waitUntilReady(proc, port, monitorPort, readyTimeoutMs, () => lines.slice(-30).join('\n'));
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const escalate = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(escalate);
  };

  // A free port can be taken by someone else before the server binds it: retry a few times.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    monitorPort = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await terminate('SIGKILL');
      if (attempt >= 3) {
        if (ownStore) rmSync(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get monitorPort() {
      return monitorPort;
    },
    storeDir,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop(stopOptions = {}) {
      await terminate('SIGTERM');
      if (ownStore && !stopOptions.keepStore) rmSync(storeDir, { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL'),
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    output: () => lines.join('\n'),
  };
}

/**
 * Jest helper: starts a server in beforeAll and stops it (removing its store) in afterAll.
 * Returns a getter, since the handle exists only once beforeAll has run.
 */
export function useNatsServer(options: NatsServerOptions = {}): () => NatsServerHandle {
  let handle: NatsServerHandle | undefined;
  beforeAll(async () => {
    handle = await startNatsServer(options);
  });
  afterAll(async () => {
    await handle?.stop();
  });
  return () => {
    if (!handle) throw new Error('the nats-server is not started yet (use it inside a test or a hook)');
    return handle;
  };
}

async function waitUntilReady(
  proc: ChildProcess,
  port: number,
  monitorPort: number,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'not started';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`nats-server exited (${proc.exitCode ?? proc.signalCode}) before ready:\n${output()}`);
    }
    const problem = (await healthProblem(monitorPort)) ?? (await infoProblem(port));
    if (problem === undefined) return;
    lastProblem = problem;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `nats-server on port ${port} not ready after ${timeoutMs} ms (${lastProblem}):\n${output()}`,
  );
}

/** `/healthz?js-enabled=true` answers 200 once JetStream is up and its streams are recovered. */
function healthProblem(monitorPort: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = httpGet(
      { host: '127.0.0.1', port: monitorPort, path: '/healthz?js-enabled=true', timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? undefined : `healthz answered ${res.statusCode}`);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`healthz: ${err.message}`));
  });
}

/** The client port is ready when it greets a new connection with its INFO line. */
function infoProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(1000, () => done('no INFO within 1 s'));
    socket.once('data', (data) => done(data.toString('utf8').startsWith('INFO ') ? undefined : 'no INFO'));
    socket.once('error', (err) => done(`client port: ${err.message}`));
  });
}
