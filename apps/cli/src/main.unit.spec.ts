import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { exitCodeOf } from './commands/inspect.js';
import { COMMANDS, ExitCode } from './index.js';
import { REPO_ROOT, run } from './testing/run.js';

describe('orchestra: help and usage errors', () => {
  it('prints help on stdout and returns 0 for --help', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(ExitCode.ok);
    expect(result.stdout).toContain('Usage: orchestra [options] [command]');
    expect(result.stdout).toMatch(/validate \[options\] <plan\.\.\.>\s+check plan files/);
    expect(result.stderr).toBe('');
  });

  it('prints a command help for validate --help and `help validate`, returning 0', async () => {
    for (const args of [
      ['validate', '--help'],
      ['help', 'validate'],
    ]) {
      const result = await run(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: orchestra validate [options] <plan...>');
      expect(result.stdout).toContain('--json');
    }
  });

  it.each([
    ['an unknown command', ['frobnicate'], "error: unknown command 'frobnicate'"],
    ['an unknown option', ['validate', '--strict', 'a.yaml'], "error: unknown option '--strict'"],
    ['a missing argument', ['validate'], "error: missing required argument 'plan'"],
  ])('returns 2 for %s, with the error and a hint on stderr', async (_what, args, message) => {
    const result = await run(args);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('(run "orchestra --help" for usage)');
    expect(result.stdout).toBe('');
  });

  it('returns 2 and shows the help on stderr when no command is given', async () => {
    const result = await run([]);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('Usage: orchestra');
  });

  it('can be called many times in one process (a fresh program each time)', async () => {
    const first = await run(['validate', 'examples/hello.yaml']);
    const second = await run(['validate', 'examples/hello.yaml']);
    expect(second).toEqual(first);
  });
});

describe('orchestra: commands', () => {
  it('reports an exception thrown by a command as exit code 1 on stderr', async () => {
    const failing = (program: Command) => {
      program.command('explode').action(() => {
        throw new Error('kaboom');
      });
    };
    (COMMANDS as unknown as unknown[]).push(failing);
    try {
      const result = await run(['explode']);
      expect(result).toEqual({ code: ExitCode.failed, stdout: '', stderr: 'orchestra: kaboom\n' });
    } finally {
      (COMMANDS as unknown as unknown[]).pop();
    }
  });
});

describe('orchestra --version', () => {
  it('prints the version of apps/cli/package.json and returns 0, as -V too', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'apps/cli/package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      expect(await run([flag])).toEqual({ code: ExitCode.ok, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe('orchestra: one documented rule for exit codes', () => {
  it.each(['results', 'watch', 'run'])('%s --help states the exit status rule', async (command) => {
    const help = (await run([command, '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      'Exit status: 0 when the execution completed, or ended partial (some tasks skipped); 1 when it failed, was cancelled or rejected, or is unknown',
    );
  });

  it('gives the same exit code for the same final status, whichever command reads it', () => {
    const codes = Object.fromEntries(
      (['completed', 'partial', 'failed', 'cancelled', 'rejected', 'running', 'pending'] as const).map(
        (status) => [status, exitCodeOf(status)],
      ),
    );
    expect(codes).toEqual({
      completed: 0,
      partial: 0,
      failed: 1,
      cancelled: 1,
      rejected: 1,
      running: 0,
      pending: 0,
    });
  });
});
