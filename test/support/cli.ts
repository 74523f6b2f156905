import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from './wait.js';

export const REPO_ROOT = resolve(__dirname, '../..');
const BIN = join(REPO_ROOT, 'apps/cli/bin/orchestra.js');

function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'apps/cli/dist/index.js'))) {
    throw new Error('the CLI is not built: run `npm run build` (npm test does it first)');
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `orchestra <args>` as a child process, as a user would. */
export function orchestra(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  return runCli(REPO_ROOT, args, { ...process.env, ...env }, timeoutMs);
}

/**
 * Runs `orchestra <args>` from `cwd` without NATS_URL: it finds the server of the `orchestra up`
 * started from that directory, as a user's commands do.
 */
export function orchestraIn(cwd: string, args: string[], timeoutMs = 120_000): Promise<CliRun> {
  const env = { ...process.env };
  delete env.NATS_URL;
  return runCli(cwd, args, env, timeoutMs);
}

function runCli(cwd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliRun> {
  assertBuilt();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** `orchestra up --services ...` in a child process of its own, so a test can kill -9 it. */
export class ServiceProcess {
  private child: ChildProcess;
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.append(chunk));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
    LIVE.add(child);
    void this.exited.then(() => LIVE.delete(child));
  }

  static async start(
    services: string,
    natsUrl: string,
    env: Record<string, string> = {},
    /** More arguments of `up` (`--console`). */
    args: string[] = [],
  ): Promise<ServiceProcess> {
    assertBuilt();
    const child = spawn(process.execPath, [BIN, 'up', '--services', services, ...args], {
      cwd: REPO_ROOT,
      // No health server unless the test asks for one (HEALTH_PORT): many run side by side.
      env: {
        ...process.env,
        NATS_URL: natsUrl,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        HEALTH_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child);
    await waitFor(() => service.output.includes('orchestra up:') || child.exitCode !== null, {
      timeoutMs: 30_000,
      what: `orchestra up --services ${services}`,
    });
    if (child.exitCode !== null) throw new Error(`orchestra up exited: ${service.output}`);
    return service;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  logs(): string {
    return this.output;
  }

  /** A crash: SIGKILL, no draining. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A graceful stop: SIGTERM, the services drain, then the process exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  private append(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-200_000);
  }
}

/** Children still running when the test process exits are killed, whatever happened. */
const LIVE = new Set<ChildProcess>();
const killAll = () => {
  for (const child of LIVE) child.kill('SIGKILL');
};
process.once('exit', killAll);
// A test run stopped from outside must not leave service processes behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}
