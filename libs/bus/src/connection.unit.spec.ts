import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      NATS_RECONNECT_WAIT_MS: '250',
    });
    expect(config).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'orchestra',
      password: 's3cret',
      credsFile: '/etc/nats/user.creds',
      nkeySeedFile: '/etc/nats/seed.nk',
      tls: { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/cert.pem', keyFile: '/etc/nats/key.pem' },
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
