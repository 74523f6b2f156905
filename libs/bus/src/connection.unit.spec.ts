import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Authenticator, type JwtAuth, nkeys } from '@nats-io/transport-node';
import { connectionOptions, DEFAULT_NATS_URL, natsConfigFromEnv } from './connection.js';

describe('natsConfigFromEnv', () => {
  it('defaults to the local server', () => {
    expect(natsConfigFromEnv({})).toEqual({ servers: [DEFAULT_NATS_URL] });
  });

  it('reads every NATS_* variable, ignoring empty ones', () => {
    const config = natsConfigFromEnv({
      NATS_URL: 'nats://a:4222, nats://b:4222,',
      NATS_USER: 'orchestra',
      NATS_PASSWORD: 's3cret',
      NATS_TOKEN: '',
      NATS_CREDS: '/etc/nats/user.creds',
      NATS_NKEY_SEED: '/etc/nats/seed.nk',
      NATS_TLS_CA: '/etc/nats/ca.pem',
      NATS_TLS_CERT: '/etc/nats/cert.pem',
      NATS_TLS_KEY: '/etc/nats/key.pem',
      NATS_INBOX_PREFIX: '_INBOX_orchestrator',
      NATS_RECONNECT_WAIT_MS: '250',
    });
    expect(config).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'orchestra',
      password: 's3cret',
      credsFile: '/etc/nats/user.creds',
      nkeySeedFile: '/etc/nats/seed.nk',
      tls: { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/cert.pem', keyFile: '/etc/nats/key.pem' },
      inboxPrefix: '_INBOX_orchestrator',
      reconnectTimeWaitMs: 250,
    });
  });

  it('rejects a reconnect wait that is not a number', () => {
    expect(() => natsConfigFromEnv({ NATS_RECONNECT_WAIT_MS: 'soon' })).toThrow(/NATS_RECONNECT_WAIT_MS/);
  });
});

describe('connectionOptions', () => {
  it('reconnects forever with the configured wait', () => {
    const opts = connectionOptions({ servers: ['nats://x:4222'], name: 'orchestrator', token: 't' });
    expect(opts).toMatchObject({
      servers: ['nats://x:4222'],
      name: 'orchestrator',
      token: 't',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
  });

  it('turns credential files into authenticators and keeps TLS file paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-creds-'));
    try {
      const creds = join(dir, 'user.creds');
      const seed = join(dir, 'seed.nk');
      writeFileSync(creds, '-----BEGIN NATS USER JWT-----\nabc\n------END NATS USER JWT------\n');
      writeFileSync(seed, 'SUAEXAMPLE\n');
      const opts = connectionOptions({
        servers: [],
        credsFile: creds,
        nkeySeedFile: seed,
        tls: { caFile: '/ca.pem' },
      });
      expect(opts.servers).toEqual([DEFAULT_NATS_URL]);
      expect(opts.authenticator).toHaveLength(2);
      expect(opts.tls).toEqual({ caFile: '/ca.pem' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails early when a credentials file is missing', () => {
    expect(() => connectionOptions({ servers: [], credsFile: '/nonexistent/user.creds' })).toThrow(/ENOENT/);
  });
});

describe('credentials from the environment, end to end to the CONNECT fields', () => {
  const withDir = <T>(work: (dir: string) => T): T => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-auth-'));
    try {
      return work(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const nonce = 'bm9uY2UtZnJvbS10aGUtc2VydmVy';

  it('passes user and password as nats.js user and pass, and a token as token', () => {
    const opts = connectionOptions(
      natsConfigFromEnv({ NATS_USER: 'dispatcher', NATS_PASSWORD: 's3cret', NATS_TOKEN: 'tok' }),
    );
    expect(opts).toMatchObject({ user: 'dispatcher', pass: 's3cret', token: 'tok' });
    expect(opts.authenticator).toBeUndefined();
  });

  it('signs the server nonce with the seed of NATS_NKEY_SEED', () => {
    withDir((dir) => {
      const user = nkeys.createUser();
      const seedFile = join(dir, 'user.nk');
      writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
      const opts = connectionOptions(natsConfigFromEnv({ NATS_NKEY_SEED: seedFile }));
      const authenticators = opts.authenticator as Authenticator[];
      const auth = authenticators[0]?.(nonce) as { nkey: string; sig: string };
      expect(auth.nkey).toBe(user.getPublicKey());
      const sig = Buffer.from(auth.sig, 'base64url');
      expect(nkeys.fromPublic(user.getPublicKey()).verify(new TextEncoder().encode(nonce), sig)).toBe(true);
    });
  });

  it('sends the JWT of NATS_CREDS and signs the nonce with the seed in it', () => {
    withDir((dir) => {
      const user = nkeys.createUser();
      const seed = new TextDecoder().decode(user.getSeed());
      const credsFile = join(dir, 'user.creds');
      writeFileSync(
        credsFile,
        `-----BEGIN NATS USER JWT-----\neyJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n` +
          `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
      );
      const opts = connectionOptions(natsConfigFromEnv({ NATS_CREDS: credsFile }));
      const auth = (opts.authenticator as Authenticator[])[0]?.(nonce) as JwtAuth;
      expect(auth.jwt).toBe('eyJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln');
      expect(auth.nkey).toBe(user.getPublicKey());
    });
  });

  it('keeps the three TLS file paths and the inbox prefix', () => {
    const opts = connectionOptions(
      natsConfigFromEnv({
        NATS_TLS_CA: '/tls/ca.pem',
        NATS_TLS_CERT: '/tls/client.pem',
        NATS_TLS_KEY: '/tls/client-key.pem',
        NATS_INBOX_PREFIX: '_INBOX_dispatcher',
        NATS_NAME: 'dispatcher-1',
      }),
    );
    expect(opts).toMatchObject({
      tls: { caFile: '/tls/ca.pem', certFile: '/tls/client.pem', keyFile: '/tls/client-key.pem' },
      inboxPrefix: '_INBOX_dispatcher',
      name: 'dispatcher-1',
    });
  });

  it('leaves the default inbox prefix and TLS alone when nothing is set', () => {
    const opts = connectionOptions(natsConfigFromEnv({}));
    expect(opts.inboxPrefix).toBeUndefined();
    expect(opts.tls).toBeUndefined();
    expect(opts.user).toBeUndefined();
  });
});
