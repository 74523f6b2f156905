import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `orchestra up` keeps its embedded server's store and address, relative to the working directory. */
export const STATE_DIR = '.orchestra';
export const URL_FILE = join(STATE_DIR, 'nats.url');

/**
 * The NATS address every command uses: NATS_URL when set, else the embedded server that
 * `orchestra up` started from this directory, else the default local server.
 */
export function natsUrl(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (env.NATS_URL) return env.NATS_URL;
  const file = join(cwd, URL_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  return undefined;
}
