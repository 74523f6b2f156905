import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginsFromText } from '@orchestra/dispatcher';
import { findNatsServer } from '@orchestra/testing';
import { REPO_ROOT, readYaml } from './support/render.js';

// docker-compose.yml and its auth override, parsed (no Docker engine runs the tests): NATS with
// JetStream and a health check, the three services, two dispatchers.

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  restart?: string;
  deploy?: { replicas?: number };
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[]; interval?: string; retries?: number };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const SERVICES = ['orchestrator', 'dispatcher', 'results'] as const;
const compose = readYaml('docker-compose.yml') as ComposeFile;
const auth = readYaml('docker-compose.auth.yml') as ComposeFile;
const service = (file: ComposeFile, name: string): ComposeService => {
  const found = file.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
};

describe('docker-compose.yml', () => {
  const nats = service(compose, 'nats');

  it('runs NATS 2.9+ with JetStream on a named volume, with the client and monitoring ports', () => {
    expect(nats.image).toMatch(/^nats:2\.(9|[1-9]\d)(\.\d+)?-alpine$/);
    expect(nats.command?.join(' ')).toMatch(/-js -sd \/data -m 8222$/);
    expect(nats.volumes).toEqual(['nats-data:/data']);
    expect(Object.keys(compose.volumes ?? {})).toEqual(['nats-data', 'event-log-key']);
    expect(nats.ports).toEqual(['4222:4222', '8222:8222']);
    expect(nats.restart).toBe('unless-stopped');
  });

  it('checks the health of NATS with JetStream on the monitoring port', () => {
    const test = nats.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toContain('http://127.0.0.1:8222/healthz?js-enabled-only=true');
    expect(nats.healthcheck?.retries).toBeGreaterThan(0);
  });

  it('starts each service with `up --services <name>` once NATS is healthy, restarting it on failure', () => {
    const started = Object.entries(compose.services).filter(([, s]) => !s.profiles);
    expect(started.map(([name]) => name).sort()).toEqual([
      'console',
      'dispatcher',
      'nats',
      'orchestrator',
      'results',
    ]);
    for (const name of SERVICES) {
      const s = service(compose, name);
      expect(s.command).toEqual(['up', '--services', name]);
      expect(s.environment?.NATS_URL).toBe('nats://nats:4222');
      expect(s.depends_on?.nats?.condition).toBe('service_healthy');
      expect(s.restart).toBe('unless-stopped');
      expect({ image: s.image, build: s.build }).toEqual({ image: 'orchestra:local', build: '.' });
    }
  });

  it('serves the web console on port 8090 of this machine only, with a health check', () => {
    const console = service(compose, 'console');
    expect(console.command).toEqual(['console', '--host', '0.0.0.0', '--port', '8080']);
    expect(console.ports).toEqual(['127.0.0.1:8090:8080']);
    expect(console.environment?.NATS_URL).toBe('nats://nats:4222');
    expect(console.environment?.ORCHESTRA_CONSOLE_TOKEN).toBe('${ORCHESTRA_CONSOLE_TOKEN:-}');
    expect(console.depends_on?.nats?.condition).toBe('service_healthy');
    expect(console.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:8080/health/ready');
  });

  it('signs the event log with ORCHESTRA_SIGNING_KEY or a key kept on a volume, which the console and the cli trust', () => {
    const orchestrator = service(compose, 'orchestrator');
    expect(orchestrator.environment?.ORCHESTRA_SIGNING_KEY).toBe('${ORCHESTRA_SIGNING_KEY:-}');
    expect(orchestrator.volumes).toEqual(['event-log-key:/app/.orchestra']);
    for (const name of ['console', 'cli']) {
      expect(service(compose, name).environment?.ORCHESTRA_VERIFY_KEY).toBe('${ORCHESTRA_VERIFY_KEY:-}');
      expect(service(compose, name).volumes).toEqual(['event-log-key:/app/.orchestra:ro']);
    }
    expect(Object.keys(compose.volumes ?? {})).toContain('event-log-key');
    for (const name of ['results', 'dispatcher'])
      expect(service(compose, name).environment).not.toHaveProperty('ORCHESTRA_SIGNING_KEY');
  });

  it('runs two dispatchers', () => {
    expect(service(compose, 'dispatcher').deploy?.replicas).toBe(2);
  });

  it('mounts a plugins file into the dispatchers (the built-in one by default) and passes the keys through', () => {
    const dispatcher = service(compose, 'dispatcher');
    const [mount, ...others] = dispatcher.volumes ?? [];
    expect(others).toEqual([]);
    const match = /^\$\{ORCHESTRA_PLUGINS_FILE:-(.+)\}:(\/etc\/orchestra\/plugins\.yaml):ro$/.exec(
      mount ?? '',
    );
    expect(match).not.toBeNull();
    expect(dispatcher.environment).toMatchObject({
      NATS_URL: 'nats://nats:4222',
      LOG_FORMAT: 'json',
      ORCHESTRA_PLUGINS: match?.[2],
      OPENAI_API_KEY: '${OPENAI_API_KEY:-}',
      ANTHROPIC_API_KEY: '${ANTHROPIC_API_KEY:-}',
    });
    // The default file loads as `orchestra up` would load it, keys unset.
    const loaded = pluginsFromText(readFileSync(join(REPO_ROOT, match?.[1] ?? ''), 'utf8'), {});
    expect(loaded.ok && loaded.plugins.map((plugin) => plugin.name)).toEqual(['builtin']);
    for (const name of ['orchestrator', 'results'])
      expect(service(compose, name).environment).not.toHaveProperty('OPENAI_API_KEY');
  });
});

describe('docker-compose.auth.yml', () => {
  const users = {
    orchestrator: 'orchestrator',
    dispatcher: 'dispatcher',
    results: 'results',
    cli: 'client',
    console: 'client',
  };
  const passwordOf = (user: string) => {
    const variable = `ORCHESTRA_${user.toUpperCase()}_PASSWORD`;
    return `\${${variable}:?set ${variable}}`;
  };
  const nats = service(auth, 'nats');

  it('mounts deploy/ and starts NATS with deploy/nats/orchestra-auth.conf (which includes the k8s base users)', () => {
    expect(nats.volumes?.[0]).toBe('./deploy:/etc/orchestra-deploy:ro');
    expect(nats.command?.slice(0, 3)).toEqual([
      'nats-server',
      '-c',
      '/etc/orchestra-deploy/nats/orchestra-auth.conf',
    ]);
    // The config has its own store_dir: nats-server refuses a second one.
    expect(nats.command).not.toContain('-sd');
  });

  it('passes every password to NATS and gives each process its own user, password and inbox', () => {
    expect(nats.environment).toEqual(
      Object.fromEntries(
        ['admin', ...Object.values(users)].map((u) => [`${u.toUpperCase()}_PASSWORD`, `"${passwordOf(u)}"`]),
      ),
    );
    for (const [name, user] of Object.entries(users)) {
      expect(compose.services[name]).toBeDefined();
      expect(service(auth, name).environment).toMatchObject({
        NATS_USER: user,
        NATS_PASSWORD: passwordOf(user),
      });
    }
    for (const name of SERVICES) {
      expect(service(auth, name).environment).toMatchObject({
        NATS_INBOX_PREFIX: `_INBOX_${name}`,
        ORCHESTRA_PROVISION: 'false',
      });
      expect(service(auth, name).depends_on).toEqual({
        provision: { condition: 'service_completed_successfully' },
      });
    }
  });

  it('provisions the streams once, as admin, when NATS is healthy', () => {
    expect(service(auth, 'provision')).toMatchObject({
      command: ['provision'],
      restart: 'no',
      depends_on: { nats: { condition: 'service_healthy' } },
      environment: { NATS_URL: 'nats://nats:4222', NATS_USER: 'admin', NATS_PASSWORD: passwordOf('admin') },
    });
  });

  // deploy/nats/orchestra-auth.conf is another change's: these checks run once it is there.
  const conf = join(REPO_ROOT, 'deploy/nats/orchestra-auth.conf');
  const withConf = existsSync(conf) ? it : it.skip;

  withConf('starts nats-server with that config, every variable it reads set as compose sets them', () => {
    // As compose passes the passwords: in double quotes, so that 12e45,x stays a string.
    const env = Object.fromEntries(Object.keys(nats.environment ?? {}).map((name) => [name, '"12e45,x"']));
    const args = (nats.command ?? [])
      .slice(1)
      .map((arg) => (arg === '/etc/orchestra-deploy/nats/orchestra-auth.conf' ? conf : arg));
    const check = spawnSync(findNatsServer(), [...args, '-t'], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(`${check.stdout}${check.stderr}`.trim()).toMatch(/configuration file .* is valid/);
    expect(check.status).toBe(0);
  });

  withConf("keeps the streams on the nats-data volume, mounted at the config's store_dir", () => {
    const storeDir = /store_dir:\s*"?([^"\s]+)"?/.exec(readFileSync(conf, 'utf8'))?.[1];
    expect(nats.volumes).toContain(`nats-data:${storeDir}`);
  });
});
