import { main } from '@orchestra/cli';
import { type CliRun, REPO_ROOT } from './cli.js';

/**
 * Runs `orchestra <args>` in this process, through the CLI's `main`, with captured output and
 * only the variables of `env` (none by default), from `cwd` (the repository root: `examples/...`
 * arguments are relative to it).
 */
export async function orchestraInProcess(
  args: string[],
  cwd = REPO_ROOT,
  env: Record<string, string> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd,
    env,
  });
  return { code, stdout, stderr };
}
