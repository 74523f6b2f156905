import { main } from '../index.js';
import { REPO_ROOT } from './paths.js';

export { REPO_ROOT } from './paths.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `orchestra <args>` in-process
 * with captured output, from `cwd` (the repository root).
 */
export async function run(args: string[], cwd = REPO_ROOT): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd,
    env: {},
  });
  return { code, stdout, stderr };
}
