import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { signerFromKey } from '@orchestra/bus';
import { pluginsFromText } from '@orchestra/dispatcher';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IConfigMap, IContainer, INamespace, IService } from 'kubernetes-models/v1';
import { generated, type K8sObject, kustomize, named, ofKind, REPO_ROOT, selects } from './support/render.js';
import { unknownFields, validateSchema } from './support/schema.js';
import { environment, portNumber, references, securityProblems } from './support/workloads.js';

// Renders deploy/k8s offline with `kubectl kustomize` and checks every object against the Kubernetes
// schemas, then what Orchestra needs of them. NATS itself is checked in nats.unit.spec.ts.

const SERVICES = ['orchestrator', 'dispatcher', 'results'] as const;

interface Expected {
  dir: string;
  namespace?: string;
  natsReplicas: number;
  streamReplicas: string;
  /** Deployment replicas; undefined where the HorizontalPodAutoscaler owns the count. */
  replicas: Record<(typeof SERVICES)[number], number | undefined>;
  autoscaler: { min: number; max: number };
  /** Clients connect with TLS (overlays/tls): the CA of the Secret nats-tls, made outside. */
  tls?: boolean;
}

const RENDERINGS: Expected[] = [
  {
    dir: 'deploy/k8s/base',
    natsReplicas: 3,
    streamReplicas: '3',
    replicas: { orchestrator: 1, dispatcher: undefined, results: 2 },
    autoscaler: { min: 2, max: 10 },
  },
  {
    dir: 'deploy/k8s/overlays/dev',
    namespace: 'orchestra-dev',
    natsReplicas: 1,
    streamReplicas: '1',
    replicas: { orchestrator: 1, dispatcher: 1, results: 1 },
    autoscaler: { min: 1, max: 1 },
  },
  {
    dir: 'deploy/k8s/overlays/production',
    namespace: 'orchestra',
    natsReplicas: 3,
    streamReplicas: '3',
    replicas: { orchestrator: 2, dispatcher: undefined, results: 2 },
    autoscaler: { min: 3, max: 20 },
  },
  {
    dir: 'deploy/k8s/overlays/tls',
    namespace: 'orchestra',
    natsReplicas: 3,
    streamReplicas: '3',
    replicas: { orchestrator: 2, dispatcher: undefined, results: 2 },
    autoscaler: { min: 3, max: 20 },
    tls: true,
  },
];

const containerOf = (deployment: IDeployment): IContainer => {
  const [container, ...others] = deployment.spec?.template.spec?.containers ?? [];
  if (!container || others.length > 0)
    throw new Error(`${deployment.metadata?.name}: one container expected`);
  return container;
};

describe.each(RENDERINGS)('kubectl kustomize $dir', (expected) => {
  let objects: K8sObject[] = [];
  const deployment = (name: string) => named<IDeployment>(objects, 'Deployment', name);
  const workloads = () => [
    ...ofKind<IDeployment>(objects, 'Deployment'),
    ...ofKind<IStatefulSet>(objects, 'StatefulSet'),
    // A Job's pod template has the same shape.
    ...ofKind<IDeployment>(objects, 'Job'),
  ];
  const natsUrl = expected.tls ? 'tls://nats:4222' : 'nats://nats:4222';

  beforeAll(() => {
    objects = kustomize(expected.dir);
  }, 120_000);

  it('renders every object Orchestra needs', () => {
    const inventory = objects.map(
      (object) => `${object.kind}/${object.metadata.name.replace(/-\w{10}$/, '')}`,
    );
    expect(inventory.sort()).toEqual(
      [
        'ConfigMap/nats-config',
        'ConfigMap/orchestra-plugins',
        'ConfigMap/orchestra-settings',
        'Deployment/console',
        'Deployment/dispatcher',
        'Deployment/orchestrator',
        'Deployment/results',
        'HorizontalPodAutoscaler/dispatcher',
        'Job/provision',
        ...(expected.namespace ? [`Namespace/${expected.namespace}`] : []),
        'PodDisruptionBudget/dispatcher',
        'PodDisruptionBudget/nats',
        'PodDisruptionBudget/orchestrator',
        'PodDisruptionBudget/results',
        'Secret/console-token',
        'Secret/event-log-key',
        'Secret/nats-credentials',
        'Secret/plugin-keys',
        'Service/console',
        'Service/nats',
        'Service/nats-headless',
        'StatefulSet/nats',
      ].sort(),
    );
  });

  it('validates every object against the Kubernetes schemas, with no unknown field', () => {
    const problems = objects.flatMap((object) => {
      try {
        validateSchema(object);
      } catch (error) {
        return [(error as Error).message];
      }
      return unknownFields(object).map(
        (path) => `${object.kind}/${object.metadata.name}: unknown field ${path}`,
      );
    });
    expect(problems).toEqual([]);
  });

  it('gives every Deployment HTTP probes on port 8080 and scrape annotations', () => {
    for (const workload of ofKind<IDeployment>(objects, 'Deployment')) {
      const container = containerOf(workload);
      const probes = {
        ready: [
          portNumber(container, container.readinessProbe?.httpGet?.port),
          container.readinessProbe?.httpGet?.path,
        ],
        live: [
          portNumber(container, container.livenessProbe?.httpGet?.port),
          container.livenessProbe?.httpGet?.path,
        ],
      };
      expect({ [container.name]: probes }).toEqual({
        [container.name]: { ready: [8080, '/health/ready'], live: [8080, '/health/live'] },
      });
      expect(workload.spec?.template.metadata?.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '8080',
        'prometheus.io/path': '/metrics',
      });
    }
  });

  it('sets CPU and memory requests and limits on every container', () => {
    for (const workload of workloads()) {
      for (const container of workload.spec?.template.spec?.containers ?? []) {
        const { requests = {}, limits = {} } = container.resources ?? {};
        expect({ [container.name]: [Object.keys(requests).sort(), Object.keys(limits).sort()] }).toEqual({
          [container.name]: [
            ['cpu', 'memory'],
            ['cpu', 'memory'],
          ],
        });
      }
    }
  });

  it('runs every pod as non-root, read-only, within the restricted Pod Security Standard', () => {
    for (const workload of workloads()) {
      const name = workload.metadata?.name ?? '?';
      const pod = workload.spec?.template.spec;
      if (!pod) throw new Error(`${name}: no pod template`);
      expect({ [name]: securityProblems(pod) }).toEqual({ [name]: [] });
    }
  });

  it('runs `up --services <name>` of one image, connected to the NATS client Service as its own user', () => {
    const client = named<IService>(objects, 'Service', 'nats');
    const nats = named<IStatefulSet>(objects, 'StatefulSet', 'nats');
    expect(selects(client.spec?.selector, nats.spec?.template.metadata?.labels)).toBe(true);
    expect(client.spec?.ports?.map((port) => port.port)).toContain(4222);
    const images = new Set<string | undefined>();
    for (const name of SERVICES) {
      const container = containerOf(deployment(name));
      images.add(container.image);
      expect(container.args).toEqual(['up', '--services', name]);
      const env = environment(container, objects);
      expect(env.get('NATS_URL')).toBe(natsUrl);
      expect(env.get('NATS_USER')).toBe(name);
      expect(env.get('NATS_PASSWORD')).toMatch(/^[^"]+$/);
      expect(env.get('NATS_INBOX_PREFIX')).toBe(`_INBOX_${name}`);
    }
    expect(images.size).toBe(1);
  });

  it(`creates streams with ${expected.streamReplicas} replica(s) (ORCHESTRA_STREAM_REPLICAS), never more than the NATS servers`, () => {
    for (const name of SERVICES) {
      const replicas = environment(containerOf(deployment(name)), objects).get('ORCHESTRA_STREAM_REPLICAS');
      expect({ [name]: replicas }).toEqual({ [name]: expected.streamReplicas });
      expect(Number(replicas)).toBeLessThanOrEqual(
        named<IStatefulSet>(objects, 'StatefulSet', 'nats').spec?.replicas ?? 1,
      );
    }
  });

  it('refers only to ConfigMaps, Secrets and keys that it renders', () => {
    for (const workload of workloads()) {
      const pod = workload.spec?.template.spec;
      if (!pod) throw new Error('no pod template');
      const { configMaps, secrets } = references(pod);
      for (const name of configMaps) expect(() => named(objects, 'ConfigMap', name)).not.toThrow();
      // nats-tls holds certificates: made outside git (README, Deploy, TLS), never rendered.
      for (const name of secrets.filter((secret) => !(expected.tls && secret === 'nats-tls')))
        expect(() => named(objects, 'Secret', name)).not.toThrow();
      for (const container of pod.containers) expect(() => environment(container, objects)).not.toThrow();
    }
    expect(generated(objects, 'Secret', 'nats-credentials')).toBeDefined();
  });

  it('serves the web console on the Service console:8080, bound to every interface of its pod behind its token', () => {
    const console = deployment('console');
    const container = containerOf(console);
    expect(container.args).toEqual(['console', '--host', '0.0.0.0', '--port', '8080']);
    expect(container.image).toBe(containerOf(deployment('results')).image);
    const env = environment(container, objects);
    expect(env.get('NATS_URL')).toBe(natsUrl);
    // It reads and acts as the CLI does: the NATS user `client`.
    expect(env.get('NATS_USER')).toBe('client');
    expect(env.get('NATS_PASSWORD')).toMatch(/^[^"]+$/);
    expect(env.get('ORCHESTRA_CONSOLE_TOKEN')).toMatch(/^\S{16,}$/);
    expect(generated(objects, 'Secret', 'console-token')).toBeDefined();
    const service = named<IService>(objects, 'Service', 'console');
    expect(selects(service.spec?.selector, console.spec?.template.metadata?.labels)).toBe(true);
    expect(service.spec?.ports?.map((port) => [port.port, portNumber(container, port.targetPort)])).toEqual([
      [8080, 8080],
    ]);
    expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
  });

  it('signs the event log with the Secret event-log-key in every orchestrator, whose public half the console trusts', () => {
    const signing = environment(containerOf(deployment('orchestrator')), objects).get(
      'ORCHESTRA_SIGNING_KEY',
    );
    const trusted = environment(containerOf(deployment('console')), objects).get('ORCHESTRA_VERIFY_KEY');
    expect(generated(objects, 'Secret', 'event-log-key')).toBeDefined();
    expect(signerFromKey(signing as string).keyId).toBe(trusted);
    for (const name of ['dispatcher', 'results'])
      expect(environment(containerOf(deployment(name)), objects).has('ORCHESTRA_SIGNING_KEY')).toBe(false);
  });

  it('mounts a plugins file every dispatcher loads, with the keys of the Secret plugin-keys in its environment', () => {
    const dispatcher = deployment('dispatcher');
    expect(dispatcherPlugins(dispatcher, objects)).toEqual(['builtin']);
    const env = environment(containerOf(dispatcher), objects);
    expect(env.get('ORCHESTRA_INSTANCE')).toBe('<fieldRef:metadata.name>');
  });

  it('sets the replicas of each service', () => {
    for (const name of SERVICES) {
      expect({ [name]: deployment(name).spec?.replicas }).toEqual({ [name]: expected.replicas[name] });
    }
    // Two results services fold safely (revision-checked writes): replaced one at a time.
    expect(deployment('results').spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it('gives every NATS user least-privilege permissions and provisions as admin in a Job', () => {
    const config =
      generated<{ data?: Record<string, string> }>(objects, 'ConfigMap', 'nats-config').data ?? {};
    for (const user of ['admin', ...SERVICES, 'client']) {
      const variable = user.toUpperCase();
      expect(config['auth.conf']).toContain(
        `{ user: ${user}, password: $${variable}_PASSWORD, permissions: $${variable} }`,
      );
    }
    for (const name of SERVICES) {
      expect(environment(containerOf(deployment(name)), objects).get('ORCHESTRA_PROVISION')).toBe('false');
    }
    const job = named<IDeployment>(objects, 'Job', 'provision');
    const container = containerOf(job);
    expect(container.args).toEqual(['provision']);
    const env = environment(container, objects);
    expect([env.get('NATS_URL'), env.get('NATS_USER'), env.get('NATS_INBOX_PREFIX')]).toEqual([
      natsUrl,
      'admin',
      '_INBOX_admin',
    ]);
  });

  it(
    expected.tls
      ? 'connects every client with TLS, checking the server with the CA of nats-tls'
      : 'leaves client TLS to the tls overlay',
    () => {
      const config =
        generated<{ data?: Record<string, string> }>(objects, 'ConfigMap', 'nats-config').data ?? {};
      expect(config['nats.conf']).toContain('include ./tls.conf');
      expect(/\btls\s*\{/.test(config['tls.conf'] ?? '')).toBe(expected.tls === true);
      for (const workload of [
        ...SERVICES.map(deployment),
        deployment('console'),
        named<IDeployment>(objects, 'Job', 'provision'),
      ]) {
        const env = environment(containerOf(workload), objects);
        expect(env.get('NATS_TLS_CA')).toBe(expected.tls ? '/etc/nats-tls/ca.crt' : undefined);
      }
    },
  );

  it('autoscales the dispatcher Deployment on CPU', () => {
    const autoscaler = named<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler', 'dispatcher');
    const target = autoscaler.spec?.scaleTargetRef;
    expect(target).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'dispatcher' });
    expect(autoscaler.spec?.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: expect.objectContaining({ type: 'Utilization' }) },
      },
    ]);
    expect(containerOf(deployment('dispatcher')).resources?.requests?.cpu).toBeDefined();
    expect({ min: autoscaler.spec?.minReplicas, max: autoscaler.spec?.maxReplicas }).toEqual(
      expected.autoscaler,
    );
  });

  it('selects existing pods with every PodDisruptionBudget and Service', () => {
    const podLabels = workloads().map((workload) => workload.spec?.template.metadata?.labels);
    const selectors = [
      ...ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget').map(
        (pdb) => pdb.spec?.selector?.matchLabels,
      ),
      ...ofKind<IService>(objects, 'Service').map((service) => service.spec?.selector),
    ];
    for (const selector of selectors)
      expect(podLabels.filter((labels) => selects(selector, labels))).toHaveLength(1);
    for (const name of SERVICES) {
      expect(named<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', name).spec).toMatchObject({
        maxUnavailable: 1,
      });
    }
    const nats = named<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', 'nats').spec;
    if (expected.natsReplicas >= 3) expect(nats).toMatchObject({ minAvailable: 2 });
    else expect(nats?.minAvailable ?? 0).toBeLessThan(expected.natsReplicas);
  });

  if (expected.namespace) {
    it(`puts every object in the namespace ${expected.namespace}, which enforces the restricted standard`, () => {
      for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
        expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(
          `${object.kind}/${object.metadata.name} in ${expected.namespace}`,
        );
      }
      const namespace = named<INamespace>(objects, 'Namespace', expected.namespace ?? '');
      expect(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    });
  }
});

describe('an overlay with agent plugins (README, Deploy)', () => {
  it('replaces the plugins file and fills plugin-keys: the dispatchers load examples/plugins.yaml with the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-overlay-'));
    try {
      copyFileSync(join(REPO_ROOT, 'examples/plugins.yaml'), join(dir, 'plugins.yaml'));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          'resources:',
          `  - ${relative(dir, join(REPO_ROOT, 'deploy/k8s/overlays/dev'))}`,
          'configMapGenerator:',
          '  - { name: orchestra-plugins, behavior: replace, files: [plugins.yaml] }',
          'secretGenerator:',
          '  - { name: plugin-keys, behavior: replace, literals: [OPENAI_API_KEY=sk-from-the-secret] }',
          '',
        ].join('\n'),
      );
      const objects = kustomize(dir);
      const dispatcher = named<IDeployment>(objects, 'Deployment', 'dispatcher');
      expect(dispatcherPlugins(dispatcher, objects)).toContain('finance@cowork');
      expect(environment(containerOf(dispatcher), objects).get('OPENAI_API_KEY')).toBe('sk-from-the-secret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/**
 * The plugins a dispatcher Deployment hosts: the file ORCHESTRA_PLUGINS names, read from the
 * ConfigMap mounted there, loaded as `orchestra up` loads it with the container's environment.
 */
function dispatcherPlugins(dispatcher: IDeployment, objects: readonly K8sObject[]): string[] {
  const container = containerOf(dispatcher);
  const env = environment(container, objects);
  const file = env.get('ORCHESTRA_PLUGINS') ?? '';
  const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
  const volume = dispatcher.spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
  const configMap = named<IConfigMap>(objects, 'ConfigMap', volume?.configMap?.name ?? '');
  const text = configMap.data?.[file.slice((mount?.mountPath.length ?? 0) + 1)] ?? '';
  const loaded = pluginsFromText(text, Object.fromEntries(env));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.plugins.map((plugin) => plugin.name);
}

describe('the offline validator', () => {
  const deployment = (container: object): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'broken' },
    spec: {
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', ...container }] } },
    },
  });

  it('reports what the schema forbids: a wrong type, a bad quantity', () => {
    expect(() => validateSchema(deployment({ args: 'up' }))).toThrow(/containers\/0\/args must be array/);
    expect(() => validateSchema(deployment({ resources: { limits: { cpu: 'lots' } } }))).toThrow(/quantity/);
  });

  it('reports unknown fields, which the schemas let through', () => {
    const typo = deployment({ securityContext: { readOnlyRootFileSystem: true }, readinessProbes: {} });
    expect(() => validateSchema(typo)).not.toThrow();
    expect(unknownFields(typo)).toEqual([
      'spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem',
      'spec.template.spec.containers[0].readinessProbes',
    ]);
  });
});
