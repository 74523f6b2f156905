import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { waitFor } from './wait.js';

const BIN = join(REPO_ROOT, 'apps/cli/bin/orchestra.js');

/** `.orchestra/up.json` of a directory (apps/cli/src/up-record.ts). */
export interface UpRecordFile {
  pid: number;
  url?: string;
  nats_pid?: number;
}

/** A directory of its own for `orchestra up` to keep `.orchestra/` in, removed by `remove()`. */
export function scratchDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `orchestra-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * `orchestra up` with an embedded server, run from `cwd` as a user runs it at a terminal: in a
 * process group of its own (the terminal's foreground group), so `interrupt()` is a Ctrl-C that
 * reaches every process of the group at once. `npx` runs it through `npx --prefix <repo>`.
 */
export class UpProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly cwd: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.append(chunk));
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => done({ code, signal, at: Date.now() })),
    );
    LIVE.add(this);
    void this.exited.then(() => LIVE.delete(this));
  }

  static spawn(cwd: string, options: { args?: string[]; env?: Record<string, string>; npx?: boolean } = {}) {
    const args = ['up', ...(options.args ?? [])];
    const [command, argv] = options.npx
      ? ['npx', ['--prefix', REPO_ROOT, 'orchestra', ...args]]
      : [process.execPath, [BIN, ...args]];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      HEALTH_PORT: '0',
    };
    delete env.NATS_URL;
    const child = spawn(command as string, argv as string[], {
      cwd,
      env: { ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new UpProcess(child, cwd);
  }

  /** Spawns it and waits for its "orchestra up:" line. */
  static async start(cwd: string, options: Parameters<typeof UpProcess.spawn>[1] = {}): Promise<UpProcess> {
    const up = UpProcess.spawn(cwd, options);
    await waitFor(() => up.logs().includes('orchestra up:') || up.child.exitCode !== null, {
      timeoutMs: 60_000,
      what: 'orchestra up to be ready',
    });
    if (up.child.exitCode !== null) throw new Error(`orchestra up exited: ${up.logs()}`);
    return up;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): string {
    return this.output;
  }

  record(): UpRecordFile {
    return JSON.parse(readFileSync(join(this.cwd, '.orchestra/up.json'), 'utf8')) as UpRecordFile;
  }

  /** Ctrl-C at the terminal: SIGINT to every process of the group. */
  interrupt(): void {
    process.kill(-this.pid, 'SIGINT');
  }

  /** Its exit, or undefined if it is still running after `timeoutMs`. */
  async exitWithin(timeoutMs: number) {
    const timer = new Promise<undefined>((done) => setTimeout(() => done(undefined), timeoutMs).unref());
    return Promise.race([this.exited, timer]);
  }

  /** Kills the whole group and the server it recorded, whatever state they are in. */
  async kill(): Promise<void> {
    const natsPid = (() => {
      try {
        return this.record().nats_pid;
      } catch {
        return undefined;
      }
    })();
    if (this.running) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await this.exited;
    }
    for (const pid of natsServersOn(join(this.cwd, '.orchestra/nats'))) killQuietly(pid);
    if (natsPid) killQuietly(natsPid);
  }

  private append(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-200_000);
  }
}

/** The nats-server processes whose store directory is `storeDir` (read from /proc). */
export function natsServersOn(storeDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('nats-server') && argv.includes(storeDir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) still answers kill(0); /proc says what it is.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const LIVE = new Set<UpProcess>();
process.once('exit', () => {
  for (const up of LIVE) {
    try {
      process.kill(-up.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
