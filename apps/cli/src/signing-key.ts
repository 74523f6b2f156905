import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { readEnvironment } from '@orchestra/contracts';
import { VERIFY_KEY_ENVIRONMENT } from './environment.js';

/** Where `orchestra up` keeps the key that signs the event log when none is configured. */
export const SIGNING_KEY_FILE = join('.orchestra', 'signing-key.nk');
/** Its public half: what `orchestra verify` trusts by default (docs/audit.md). */
export const VERIFY_KEY_FILE = join('.orchestra', 'signing-key.pub');

/**
 * The local signing key (an nkey seed), made on first use with its public key beside it. The
 * seed file is readable by its owner only: whoever holds it can sign records.
 */
export function localSigningKey(cwd: string): { seed: string; publicKey: string; created: boolean } {
  const seedPath = join(cwd, SIGNING_KEY_FILE);
  const publicPath = join(cwd, VERIFY_KEY_FILE);
  if (existsSync(seedPath)) {
    const seed = readFileSync(seedPath, 'utf8').trim();
    return { seed, publicKey: readFileSync(publicPath, 'utf8').trim(), created: false };
  }
  const pair = createUser();
  const seed = new TextDecoder().decode(pair.getSeed());
  mkdirSync(join(cwd, '.orchestra'), { recursive: true });
  writeFileSync(seedPath, `${seed}\n`, { mode: 0o600 });
  writeFileSync(publicPath, `${pair.getPublicKey()}\n`);
  return { seed, publicKey: pair.getPublicKey(), created: true };
}

/**
 * The orchestrator's settings with a signing key: ORCHESTRA_SIGNING_KEY when set, else this
 * directory's own, so that the log is signed by default (docs/audit.md).
 */
export function withSigningKey<T extends { signingKey?: string }>(
  settings: T,
  cwd: string,
  logger: { info(fields: object, message: string): void },
): T & { signingKey: string } {
  if (settings.signingKey) return { ...settings, signingKey: settings.signingKey };
  const local = localSigningKey(cwd);
  logger.info(
    { public_key: local.publicKey, file: SIGNING_KEY_FILE, created: local.created },
    'event log signed with the local key',
  );
  return { ...settings, signingKey: local.seed };
}

/**
 * The keys `verify`, `replay` and the console trust: ORCHESTRA_VERIFY_KEY (several separated by
 * commas, while a rotated key's records are kept), else the one `up` made here, else none.
 */
export function localVerifyKeys(cwd: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const configured = readEnvironment(VERIFY_KEY_ENVIRONMENT, env).ORCHESTRA_VERIFY_KEY;
  if (configured)
    return configured
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean);
  const publicPath = join(cwd, VERIFY_KEY_FILE);
  return existsSync(publicPath) ? [readFileSync(publicPath, 'utf8').trim()] : [];
}
