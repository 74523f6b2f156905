import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { createCli, ExitCode, type Io, processIo } from './context.js';

export { openConsole } from './commands/console.js';
export { COMMANDS } from './commands/index.js';
export type { Cli, CommandRegistration, Io } from './context.js';
export { ExitCode } from './context.js';
export { environmentTable, SERVICE_ENVIRONMENTS, withEnvironmentTable } from './environment.js';
export { type Stack, type StackOptions, startStack } from './stack.js';
export { runningUp, type UpRecord } from './up-record.js';

/**
 * Runs `orchestra` with the given arguments (without `node` and the script: `['validate', 'a.yaml']`)
 * and returns the exit code instead of exiting: 0 success, 1 invalid input or failed execution,
 * 2 usage error. `--help` returns 0.
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const cli = createCli(io);
  const program = new Command('orchestra')
    .description('Run multi-plugin plans on NATS JetStream (NATS_URL selects the server).')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .version(cliVersion(), '-V, --version', 'print the version of orchestra')
    .showHelpAfterError('(run "orchestra --help" for usage)');
  for (const register of COMMANDS) register(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (error) {
    // Commander has already printed its message (or the help) through configureOutput.
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    cli.err(`orchestra: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.failed;
  }
}

/** The version in apps/cli/package.json (one level above both src/ and dist/). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}
