import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BusLogger, findNatsServer, freePort, isPortFree } from '@orchestra/bus';
import { claimStore, isRunning, processStart, releaseStore, STATE_DIR, updateUpRecord } from './up-record.js';

export interface EmbeddedServer {
  url: string;
  pid: number;
  /** The store directory, relative to the working directory when under it. */
  store: string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; then the store is free again. */
  stop(graceMs?: number): Promise<void>;
}

/** Another `orchestra up` runs with its embedded server from this directory: one store, one server. */
export class StoreInUseError extends Error {
  constructor(
    readonly cwd: string,
    readonly pid: number,
    readonly url: string | undefined,
  ) {
    const at = url ? `, NATS at ${url}` : '';
    super(
      `orchestra up is already running from ${cwd} (pid ${pid}${at}); its store ${STATE_DIR}/nats takes one server.\n` +
        'Every command run from this directory uses it already. Stop it with Ctrl-C in its terminal ' +
        `or \`kill ${pid}\`.${url ? `\nTo add services to it: NATS_URL=${url} npx orchestra up --services dispatcher` : ''}`,
    );
    this.name = 'StoreInUseError';
  }
}

/**
 * `orchestra up` without NATS_URL: a nats-server with JetStream, its store under `.orchestra/`,
 * locked to this process by `.orchestra/up.json` (a second `up` from the directory is refused).
 * The server runs in a process group of its own, so a Ctrl-C at the terminal reaches `up` only:
 * `up` stops it itself, after the services have drained (README, CLI).
 */
export async function startEmbeddedServer(cwd: string, logger: BusLogger): Promise<EmbeddedServer> {
  const binary = findNatsServer();
  const storeDir = resolve(cwd, STATE_DIR, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const claim = claimStore(cwd, join(STATE_DIR, 'nats'));
  if (!claim.ok) throw new StoreInUseError(cwd, claim.running.pid, claim.running.url);
  try {
    if (claim.orphan) {
      await terminate(claim.orphan.pid, claim.orphan.start, 5_000);
      logger.warn(
        { pid: claim.orphan.pid },
        'stopped the nats-server a previous orchestra up left on this store',
      );
    }
    // A free port can be taken between the probe and nats-server's bind (another process, or an
    // outgoing connection given it as its local port): then it exits at once, and another is tried.
    for (let attempt = 1; ; attempt++) {
      const port = attempt === 1 && (await isPortFree(4222)) ? 4222 : await freePort();
      const started = await launch(binary, port, storeDir, cwd);
      if ('server' in started) {
        const { url, pid } = started.server;
        updateUpRecord(cwd, { url, nats_pid: pid, nats_start: processStart(pid) });
        logger.info({ url, store: storeDir, pid }, 'embedded nats-server started');
        return started.server;
      }
      if (attempt >= 3 || !/address already in use/.test(started.error.message)) throw started.error;
      logger.warn({ port }, 'the port was taken before nats-server could listen on it, trying another');
    }
  } catch (error) {
    releaseStore(cwd);
    throw error;
  }
}

/** Starts nats-server on `port` and waits until it listens; on failure it is stopped and the error returned. */
async function launch(
  binary: string,
  port: number,
  storeDir: string,
  cwd: string,
): Promise<{ server: EmbeddedServer } | { error: Error }> {
  const store = join(STATE_DIR, 'nats');
  const child: ChildProcess = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  // If this process ends without stopping it (an uncaught error), the server must not outlive it.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const url = `nats://127.0.0.1:${port}`;
  const pid = child.pid ?? -1;
  const halt = async (graceMs: number) => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async (graceMs = 5_000) => {
    await halt(graceMs);
    releaseStore(cwd);
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await halt(1_000);
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }
  return { server: { url, pid, store, stop } };
}

/** Stops a process we recorded (pid and start time): SIGTERM, SIGKILL after `graceMs`. */
async function terminate(pid: number, start: string | undefined, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid, start) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid, start)) signal('SIGKILL');
  while (isRunning(pid, start)) await sleep(20);
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${output()}`);
    if (!(await isPortFree(port))) return;
    await sleep(50);
  }
  throw new Error(`nats-server did not listen on port ${port}: ${output()}`);
}
