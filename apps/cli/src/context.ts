import type { Command } from 'commander';

/** Exit codes of every command (README, "CLI"). */
export const ExitCode = {
  ok: 0,
  /** Invalid input (a plan, a file, an id) or an execution that failed. */
  failed: 1,
  /** The command line itself is wrong: unknown command or option, missing argument. */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Where a command reads and writes; tests pass their own to run `main` in-process. */
export interface Io {
  /** A terminal when `isTTY` (then `columns` and `rows` are its size): `watch` draws a live view there. */
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number; rows?: number };
  stderr: { write(text: string): unknown };
  /** Relative file arguments are resolved against it. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

/** What a command's action gets: the streams, and the exit code it sets for `main` to return. */
export interface Cli {
  readonly io: Io;
  exitCode: ExitCode;
  out(line: string): void;
  err(line: string): void;
}

export function createCli(io: Io): Cli {
  return {
    io,
    exitCode: ExitCode.ok,
    out: (line) => io.stdout.write(`${line}\n`),
    err: (line) => io.stderr.write(`${line}\n`),
  };
}

/**
 * A command adds itself to the program: `program.command(...)....action(...)`. Its action sets
 * `cli.exitCode` for a failure it reports itself; an exception it throws is reported by `main`
 * as exit code 1.
 */
export type CommandRegistration = (program: Command, cli: Cli) => void;
