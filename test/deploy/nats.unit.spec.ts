import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from '@orchestra/testing';
import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IConfigMap, IContainer, IService } from 'kubernetes-models/v1';
import { type K8sObject, kustomize, named, selects } from './support/render.js';
import { environment } from './support/workloads.js';

// The NATS cluster of deploy/k8s: three servers whose routes name each other (one server, no
// cluster, in overlays/dev), a config that nats-server itself accepts, a store on a volume.

const RENDERINGS = [
  { dir: 'deploy/k8s/base', servers: 3 },
  { dir: 'deploy/k8s/overlays/dev', servers: 1 },
  { dir: 'deploy/k8s/overlays/production', servers: 3 },
];

describe.each(RENDERINGS)('NATS in $dir', ({ dir, servers }) => {
  let objects: K8sObject[] = [];
  let nats: IStatefulSet;
  let container: IContainer;
  let config: Record<string, string>;

  beforeAll(() => {
    objects = kustomize(dir);
    nats = named<IStatefulSet>(objects, 'StatefulSet', 'nats');
    const [first] = nats.spec?.template.spec?.containers ?? [];
    if (!first) throw new Error('the nats StatefulSet has no container');
    container = first;
    const volume = nats.spec?.template.spec?.volumes?.find((v) => v.name === 'config');
    config = named<IConfigMap>(objects, 'ConfigMap', volume?.configMap?.name ?? '?').data ?? {};
  }, 120_000);

  it(`runs ${servers} server(s), started in parallel, behind a headless Service for the routes`, () => {
    expect(nats.spec?.replicas).toBe(servers);
    expect(nats.spec?.podManagementPolicy).toBe('Parallel');
    const headless = named<IService>(objects, 'Service', nats.spec?.serviceName ?? '?');
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(selects(headless.spec?.selector, nats.spec?.template.metadata?.labels)).toBe(true);
    expect(headless.spec?.ports?.map((port) => port.port)).toEqual(expect.arrayContaining([4222, 6222]));
  });

  it(servers > 1 ? 'routes every server to all three pods' : 'has no cluster block', () => {
    const conf = config['nats.conf'] ?? '';
    if (servers === 1) {
      expect(conf).not.toMatch(/^\s*cluster\s*\{/m);
      return;
    }
    const routes = /routes:\s*\[([^\]]*)\]/.exec(conf)?.[1]?.match(/nats:\/\/[^\s,]+/g);
    const pods = Array.from({ length: servers }, (_, i) => `nats://nats-${i}.${nats.spec?.serviceName}:6222`);
    expect(routes).toEqual(pods);
    expect(conf).toMatch(/^\s*port:\s*6222$/m);
    expect(container.ports?.find((port) => port.name === 'cluster')?.containerPort).toBe(6222);
  });

  it('keeps the JetStream store on the volume claimed for each server', () => {
    const storeDir = /store_dir:\s*(\S+)/.exec(config['nats.conf'] ?? '')?.[1];
    const claims = nats.spec?.volumeClaimTemplates?.map((claim) => claim.metadata?.name);
    const mount = container.volumeMounts?.find((m) => claims?.includes(m.name));
    expect(mount?.mountPath).toBe(storeDir);
    expect(config['nats.conf']).toMatch(/^\s*http_port:\s*8222$/m);
  });

  it('is a configuration that nats-server accepts, with every $VARIABLE set by the container', () => {
    const env = environment(container, objects);
    const referenced = Object.values(config).flatMap((text) =>
      // Quoted strings are subjects ("$JS.API.INFO"), not variables.
      [
        ...text
          .replace(/#.*$/gm, '')
          .replace(/"[^"]*"/g, '')
          .matchAll(/\$([A-Z_][A-Z0-9_]*)/g),
      ].map((match) => match[1] ?? ''),
    );
    // Blocks the config defines itself (ADMIN = { ... }) are not environment variables.
    const defined = new Set(
      Object.values(config).flatMap((text) =>
        [...text.matchAll(/^\s*([A-Z_][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]),
      ),
    );
    expect(referenced.filter((name) => !env.has(name) && !defined.has(name))).toEqual([]);
    for (const name of referenced.filter((n) => n.endsWith('_PASSWORD'))) {
      expect({ [name]: env.get(name) }).toEqual({ [name]: `"${env.get(`ORCHESTRA_${name}`)}"` });
    }

    const directory = mkdtempSync(join(tmpdir(), 'orchestra-nats-conf-'));
    try {
      for (const [file, text] of Object.entries(config)) writeFileSync(join(directory, file), text);
      const values = Object.fromEntries(
        [...env].map(([k, v]) => [k, v.replace(/^<fieldRef:.*>$/, 'nats-0')]),
      );
      const check = spawnSync(findNatsServer(), ['-c', join(directory, 'nats.conf'), '-t'], {
        env: { PATH: process.env.PATH, ...values },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(`${check.stdout}${check.stderr}`.trim()).toMatch(/configuration file .* is valid/);
      expect(check.status).toBe(0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
