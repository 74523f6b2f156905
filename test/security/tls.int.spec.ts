import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { noopLogger } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra } from '../support/cli.js';
import { InProcessSystem } from '../support/system.js';

/**
 * Client TLS as the Kubernetes overlay deploy/k8s/overlays/tls configures it: its tls.conf, with
 * the certificate paths pointed at certificates this test makes with openssl (a CA, and a server
 * certificate for 127.0.0.1 and localhost). The services and the CLI connect with NATS_TLS_CA and
 * run a plan; a client that does not trust the CA, or does not speak TLS, is refused.
 */
const OVERLAY_TLS = resolve(__dirname, '../../deploy/k8s/overlays/tls/tls.conf');

function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=orchestra-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=nats',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:nats\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'tls.crt',
  );
}

describe('client TLS (deploy/k8s/overlays/tls)', () => {
  let dir: string;
  let server: NatsServerHandle;
  let system: InProcessSystem;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orchestra-tls-'));
    makeCertificates(dir);
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, readFileSync(OVERLAY_TLS, 'utf8').replaceAll('/etc/nats-tls', dir));
    server = await startNatsServer({ configFile: conf });
    const tls = { tls: { caFile: join(dir, 'ca.crt') } };
    system = await new InProcessSystem(server, noopLogger, {
      connections: { orchestrator: tls, dispatcher: tls, results: tls, client: tls, admin: tls },
    }).start();
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a plan with every service and the CLI on TLS, checking the server against the CA', async () => {
    const plan = {
      plan_id: 'tls',
      phases: [
        {
          phase_id: 'p',
          tasks: [
            {
              task_id: 'hi',
              assigned_plugin: 'builtin',
              entry_point: { type: 'function', value: 'echo' },
              input_context: { tls: true },
            },
          ],
        },
      ],
    };
    const client = await OrchestraClient.using(system.client);
    await client.execute(plan, 'tls-1');
    expect(await client.waitForResults('tls-1', 30_000)).toMatchObject({ status: 'completed' });

    const file = join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify(plan));
    const run = await orchestra(['run', file, '--wait', '--json', '--id', 'tls-2'], {
      NATS_URL: `tls://127.0.0.1:${server.port}`,
      NATS_TLS_CA: join(dir, 'ca.crt'),
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ execution_id: 'tls-2', status: 'completed' });
  });

  it('refuses a client that does not trust the CA, and one without TLS', async () => {
    await expect(
      connect({ servers: server.url, tls: {}, reconnect: false, timeout: 3_000 }),
    ).rejects.toThrow();
    const plain = await connect({ servers: server.url, reconnect: false, timeout: 3_000 }).then(
      (nc) => nc.close().then(() => 'connected'),
      () => 'refused',
    );
    expect(plain).toBe('refused');
  });
});
