import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { noopLogger } from '@orchestra/bus';
import { startStack } from '@orchestra/cli';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { failure, generateNkey, generateOperator, generateTls, orchestraWith } from './secure-nats.js';

/**
 * Every way of authenticating that NATS_* offers, end to end: `orchestra up` (stack.ts) starts the
 * three services with the variables, and `orchestra run --wait` (connect.ts) runs a plan with them.
 */

const plan = {
  plan_id: 'auth',
  phases: [
    {
      phase_id: 'p',
      tasks: [
        {
          task_id: 't',
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'echo' },
          input_context: { ok: true },
        },
      ],
    },
  ],
};

describe('NATS authentication from the environment (orchestra up and the CLI)', () => {
  let dir: string;
  let server: NatsServerHandle | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestra-auth-e2e-'));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const serverWith = async (config: string): Promise<NatsServerHandle> => {
    const file = join(dir, 'server.conf');
    writeFileSync(file, config);
    server = await startNatsServer({ configFile: file });
    return server;
  };

  /** `orchestra up` with every service, then `orchestra run --wait --json` as a client, both with `env`. */
  const runThrough = async (url: string, env: Record<string, string>, id: string) => {
    const stack = await startStack({
      services: ['orchestrator', 'dispatcher', 'results'],
      natsUrl: url,
      logger: noopLogger,
      cwd: dir,
      env: { NATS_URL: url, ...env },
    });
    try {
      const run = await orchestraWith(
        ['run', 'plan.json', '--wait', '--json', '--id', id],
        { NATS_URL: url, ...env },
        dir,
      );
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toMatchObject({ execution_id: id, status: 'completed' });
    } finally {
      await stack.stop();
    }
  };

  it('nkey: NATS_NKEY_SEED signs the nonce; another seed is refused', async () => {
    const allowed = generateNkey(dir, 'orchestra');
    const stranger = generateNkey(dir, 'stranger');
    const { url } = await serverWith(`authorization { users = [ { nkey: ${allowed.publicKey} } ] }\n`);
    await runThrough(url, { NATS_NKEY_SEED: allowed.seedFile }, 'auth-nkey');
    const refused = await orchestraWith(['ls'], { NATS_URL: url, NATS_NKEY_SEED: stranger.seedFile }, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot reach NATS .*Authorization Violation/);
  });

  it('user and password, and a token', async () => {
    const { url } = await serverWith(
      'authorization { users = [ { user: orchestra, password: "p4ss word, with a comma" } ] }\n',
    );
    await runThrough(url, { NATS_USER: 'orchestra', NATS_PASSWORD: 'p4ss word, with a comma' }, 'auth-user');
    const wrong = await orchestraWith(
      ['ls'],
      { NATS_URL: url, NATS_USER: 'orchestra', NATS_PASSWORD: 'nope' },
      dir,
    );
    expect(wrong.stderr).toMatch(/Authorization Violation/);
    await server?.stop();
    const tokenServer = await serverWith('authorization { token: "s3cret-token" }\n');
    await runThrough(tokenServer.url, { NATS_TOKEN: 's3cret-token' }, 'auth-token');
  });

  it('creds: NATS_CREDS (user JWT and seed) against an operator-mode server with JetStream', async () => {
    const { config, credsFile } = generateOperator(dir);
    const { url } = await serverWith(config);
    await runThrough(url, { NATS_CREDS: credsFile }, 'auth-creds');
    const anonymous = await orchestraWith(['ls'], { NATS_URL: url }, dir);
    expect(anonymous.stderr).toMatch(/Authorization Violation/);
  });

  it('mutual TLS: NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY; no client certificate, no connection', async () => {
    const tls = generateTls();
    try {
      const { url } = await serverWith(
        `tls {\n  cert_file: "${tls.serverCert}"\n  key_file: "${tls.serverKey}"\n` +
          `  ca_file: "${tls.ca}"\n  verify: true\n  timeout: 5\n}\n`,
      );
      await runThrough(
        url,
        { NATS_TLS_CA: tls.ca, NATS_TLS_CERT: tls.clientCert, NATS_TLS_KEY: tls.clientKey },
        'auth-tls',
      );
      // The server demands a certificate its CA signed: trusting the server is not enough.
      await failure(connect({ servers: url, tls: { caFile: tls.ca }, reconnect: false }));
      const plain = await orchestraWith(['ls'], { NATS_URL: url }, dir);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(/cannot reach NATS/);
    } finally {
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });
});
