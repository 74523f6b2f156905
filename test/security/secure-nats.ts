import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { errors, type NodeConnectionOptions, nkeys } from '@nats-io/transport-node';
import { type Io, main } from '@orchestra/cli';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';

/** Helpers of the security tests: servers with authentication, TLS material, CLI runs with an env. */

export const AUTH_CONFIG = resolve(__dirname, '../../deploy/nats/orchestra-auth.conf');
export const ROLES = ['admin', 'orchestrator', 'dispatcher', 'results', 'client'] as const;
export type Role = (typeof ROLES)[number];

export interface Account {
  user: Role;
  password: string;
  /** `_INBOX_<role>` for every role but the client, as deploy/nats/README.md prescribes. */
  inboxPrefix: string | undefined;
}

export interface SecureNats {
  server: NatsServerHandle;
  accounts: Record<Role, Account>;
  /** nats.js options of one role. */
  options(role: Role): Partial<NodeConnectionOptions>;
  /** The NATS_* variables a process of this role is given. */
  env(role: Role): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * nats-server with the checked-in deploy/nats/orchestra-auth.conf, random passwords given to it
 * through the environment, as in production. The harness passes the port and store directory
 * on the command line; only `store_dir` must leave the file, since nats-server refuses both.
 */
export async function startSecureNats(): Promise<SecureNats> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-auth-'));
  const configFile = join(dir, 'orchestra-auth.conf');
  // Moved out of deploy/nats: its includes (the users, from the k8s base) keep pointing there.
  const config = readFileSync(AUTH_CONFIG, 'utf8')
    .replace(/^\s*store_dir:.*$/m, '')
    // nats-server resolves an include relative to the including file, even an absolute path.
    .replace(
      /^include "([^"]+)"/gm,
      (_, path: string) => `include "${relative(dir, resolve(dirname(AUTH_CONFIG), path))}"`,
    );
  writeFileSync(configFile, config);
  const accounts = Object.fromEntries(
    ROLES.map((role) => [
      role,
      {
        user: role,
        password: randomBytes(12).toString('hex'),
        inboxPrefix: role === 'client' ? undefined : `_INBOX_${role}`,
      },
    ]),
  ) as Record<Role, Account>;
  // Quoted, as deploy/nats/README.md says: nats-server parses a variable's value as config, so a
  // bare `4e5...` would be a number and `a,b` would silently become `a`.
  const env = Object.fromEntries(
    ROLES.map((role) => [`${role.toUpperCase()}_PASSWORD`, `"${accounts[role].password}"`]),
  );
  let server: NatsServerHandle;
  try {
    server = await startNatsServer({ configFile, env });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    server,
    accounts,
    options(role) {
      const { user, password, inboxPrefix } = accounts[role];
      return { user, pass: password, ...(inboxPrefix ? { inboxPrefix } : {}) };
    },
    env(role) {
      const { user, password, inboxPrefix } = accounts[role];
      return {
        NATS_URL: server.url,
        NATS_USER: user,
        NATS_PASSWORD: password,
        ...(inboxPrefix ? { NATS_INBOX_PREFIX: inboxPrefix } : {}),
      };
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The permissions violation behind a failed request, publish or subscription, if there is one. */
export function violationOf(
  error: unknown,
): InstanceType<typeof errors.PermissionViolationError> | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof errors.PermissionViolationError) return e;
  }
  return undefined;
}

/** Awaits `work` and returns what it failed with (fails the test if it succeeded). */
export async function failure(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to be refused, but it succeeded');
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `orchestra <args>` in this process, with exactly the environment given (no process.env). */
export async function orchestraWith(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd,
    env,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

export interface TlsFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (P-256, 1 day). */
export function generateTls(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=orchestra-test-ca',
  );
  const issue = (name: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), `${extensions}\n`);
    openssl(
      'req',
      ...ec,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=orchestra-${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  issue('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  issue('client', 'extendedKeyUsage=clientAuth');
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server-key.pem'),
    clientCert: file('client.pem'),
    clientKey: file('client-key.pem'),
  };
}

/** A user nkey pair; the seed is written to `<dir>/<name>.nk` as NATS_NKEY_SEED expects. */
export function generateNkey(dir: string, name: string): { publicKey: string; seedFile: string } {
  const pair = nkeys.createUser();
  const seedFile = join(dir, `${name}.nk`);
  writeFileSync(seedFile, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
  return { publicKey: pair.getPublicKey(), seedFile };
}

/**
 * Decentralised (JWT) auth without nsc: an operator, its system account, an account with
 * JetStream and a user, each claim signed by its issuer's nkey as nats-server expects; returns
 * the server configuration and writes the user's `.creds` file.
 */
export function generateOperator(dir: string): { config: string; credsFile: string } {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = encodeJwt(operator, operator.getPublicKey(), 'orchestra-test', {
    type: 'operator',
    version: 2,
    system_account: system.getPublicKey(),
  });
  // JetStream needs a system account to start in operator mode.
  const systemJwt = encodeJwt(operator, system.getPublicKey(), 'SYS', { type: 'account', version: 2 });
  const accountJwt = encodeJwt(operator, account.getPublicKey(), 'orchestra', {
    type: 'account',
    version: 2,
    limits: {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    },
  });
  const userJwt = encodeJwt(account, user.getPublicKey(), 'orchestra-cli', {
    type: 'user',
    version: 2,
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  const credsFile = join(dir, 'orchestra-cli.creds');
  writeFileSync(
    credsFile,
    `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
    { mode: 0o600 },
  );
  const config =
    `operator: "${operatorJwt}"\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\n` +
    `resolver_preload: {\n  ${system.getPublicKey()}: "${systemJwt}"\n  ${account.getPublicKey()}: "${accountJwt}"\n}\n`;
  return { config, credsFile };
}

function encodeJwt(issuer: nkeys.KeyPair, subject: string, name: string, nats: object): string {
  const b64 = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');
  const header = b64(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims = {
    jti: randomBytes(16).toString('hex').toUpperCase(),
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats,
  };
  const payload = b64(JSON.stringify(claims));
  const signature = b64(issuer.sign(new TextEncoder().encode(`${header}.${payload}`)));
  return `${header}.${payload}.${signature}`;
}
