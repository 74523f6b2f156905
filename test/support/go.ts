import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { waitFor } from './wait.js';

/** The Go example (examples/go): built with Debian's packages, offline, by its build script. */
export const GO_EXAMPLE_DIR = join(REPO_ROOT, 'examples/go');
const NATS_GO = '/usr/share/gocode/src/github.com/nats-io/nats.go';
const INSTALL = 'apt-get install -y golang-go golang-github-nats-io-go-nats-dev (.ci/run installs them)';

/**
 * Builds the worker and the client into `dir`. Throws, saying what to install, when Go or the
 * packaged nats.go is missing: the test never skips silently.
 */
export async function buildGoExample(dir: string): Promise<{ worker: string; client: string }> {
  try {
    execFileSync('go', ['version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`Go is not installed (no \`go\` on PATH): ${INSTALL}`);
  }
  if (!existsSync(NATS_GO)) throw new Error(`nats.go is not installed in ${NATS_GO}: ${INSTALL}`);
  await new Promise<void>((done, fail) =>
    execFile(
      join(GO_EXAMPLE_DIR, 'build.sh'),
      [dir],
      // A cache kept between runs: the first build compiles nats.go, the next ones reuse it.
      { env: { ...process.env, GOCACHE: join(tmpdir(), 'orchestra-go-build-cache') }, timeout: 120_000 },
      (error, _stdout, stderr) =>
        error ? fail(new Error(`examples/go/build.sh failed: ${stderr}`)) : done(),
    ),
  );
  return { worker: join(dir, 'worker'), client: join(dir, 'client') };
}

/** A Go program run by a test, stopped by its PID; its output is kept for assertions. */
export class GoProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => this.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.append(chunk));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
    LIVE.add(child);
    void this.exited.then(() => LIVE.delete(child));
  }

  /** Starts `binary` and waits until its output contains `ready` (or it exits). */
  static async start(binary: string, args: string[], natsUrl: string, ready: string): Promise<GoProcess> {
    const child = spawn(binary, args, {
      env: { ...process.env, NATS_URL: natsUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = new GoProcess(child);
    await waitFor(() => started.output.includes(ready) || child.exitCode !== null, {
      timeoutMs: 20_000,
      what: `${binary} ${args.join(' ')} to print "${ready}"`,
    });
    if (child.exitCode !== null) throw new Error(`${binary} exited: ${started.output}`);
    return started;
  }

  logs(): string {
    return this.output;
  }

  /** Lines of the output that contain `text`. */
  lines(text: string): string[] {
    return this.output.split('\n').filter((line) => line.includes(text));
  }

  /** SIGTERM (the worker finishes its running attempts, then exits) and waits for the exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  private append(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-200_000);
  }
}

/** Runs a Go program to its end: exit code, stdout, stderr. */
export function runGo(
  binary: string,
  args: string[],
  natsUrl: string,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      binary,
      args,
      { env: { ...process.env, NATS_URL: natsUrl }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Go programs still running when the test process exits are killed, whatever happened. */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});
