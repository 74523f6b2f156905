import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Child, freePort, round, sleep, startChild } from './procs.js';

/** The payload limit the benchmark's nats-server runs with: room for a 10,000-task plan. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export interface NatsServer {
  readonly url: string;
  readonly pid: number;
  readonly storeDir: string;
  /** Counters of the server's /varz: messages and bytes in and out, JetStream API requests. */
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

export interface ServerStats {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  api_requests: number;
}

export function natsServerBinary(): string {
  for (const candidate of [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server']) {
    if (candidate && spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('nats-server is not installed (Debian/Ubuntu: apt-get install -y nats-server)');
}

export function natsServerVersion(): string {
  return execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * A nats-server of the benchmark's own: JetStream with file storage in a fresh temporary
 * directory, bound to 127.0.0.1 on free ports, `max_payload` raised by a configuration file.
 */
export async function startNats(): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-bench-nats-'));
  const port = await freePort();
  const monitor = await freePort();
  const config = join(dir, 'nats.conf');
  writeFileSync(
    config,
    [
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${monitor}"`,
      `max_payload: ${MAX_PAYLOAD_BYTES / 1024 / 1024}MB`,
      `jetstream { store_dir: "${join(dir, 'store')}" }`,
      '',
    ].join('\n'),
  );
  const child = startChild(natsServerBinary(), ['-c', config]);
  await waitHealthy(child, monitor);
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    storeDir: dir,
    async stats() {
      const varz = JSON.parse(await httpText(monitor, '/varz')) as Omit<ServerStats, 'api_requests'> & {
        jetstream?: { stats?: { api?: { total?: number } } };
      };
      const { in_msgs, out_msgs, in_bytes, out_bytes } = varz;
      return { in_msgs, out_msgs, in_bytes, out_bytes, api_requests: varz.jetstream?.stats?.api?.total ?? 0 };
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(child: Child, monitor: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`nats-server exited:\n${child.output()}`);
    if (await healthz(monitor)) return;
    await sleep(50);
  }
  await child.kill();
  throw new Error(`nats-server not healthy after 20 s:\n${child.output()}`);
}

/** Traffic between two /varz readings, in all and per task. */
export function serverDelta(before: ServerStats, after: ServerStats, tasks: number): Record<string, number> {
  const d = (key: keyof ServerStats) => after[key] - before[key];
  const per = (x: number) => round(x / Math.max(1, tasks), 2);
  return {
    in_msgs: d('in_msgs'),
    out_msgs: d('out_msgs'),
    in_mb: round(d('in_bytes') / 1024 ** 2, 1),
    out_mb: round(d('out_bytes') / 1024 ** 2, 1),
    api_requests: d('api_requests'),
    msgs_in_per_task: per(d('in_msgs')),
    msgs_out_per_task: per(d('out_msgs')),
    kb_in_per_task: per(d('in_bytes') / 1024),
    kb_out_per_task: per(d('out_bytes') / 1024),
    api_requests_per_task: per(d('api_requests')),
  };
}

function httpText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on('error', reject);
  });
}

function healthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(
      { host: '127.0.0.1', port, path: '/healthz?js-enabled=true', timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export interface RedisHandle {
  readonly host: string;
  readonly port: number;
  /** Started by the benchmark (and stopped by it), or found running. */
  readonly own: boolean;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * The Redis of the peer (BullMQ): the one on 127.0.0.1:6379 (or REDIS_PORT) when it answers,
 * otherwise a `redis-server` of our own on a free port, without persistence, stopped afterwards.
 */
export async function useRedis(): Promise<RedisHandle> {
  const port = Number(process.env.REDIS_PORT ?? 6379);
  const found = await redisVersion(port);
  if (found) return { host: '127.0.0.1', port, own: false, version: found, stop: async () => undefined };
  const ownPort = await freePort();
  const child = startChild('redis-server', [
    '--port',
    String(ownPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  for (let i = 0; i < 100; i++) {
    const version = await redisVersion(ownPort);
    if (version) return { host: '127.0.0.1', port: ownPort, own: true, version, stop: () => child.stop() };
    if (child.process.exitCode !== null) break;
    await sleep(100);
  }
  await child.kill();
  throw new Error(`could not start redis-server: ${child.output() || 'is it installed?'}`);
}

async function redisVersion(port: number): Promise<string | undefined> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
