import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort } from '@orchestra/bus';
import { startNatsServer } from '@orchestra/testing';
import { Redis } from 'ioredis';
import { round, sleep, startChild } from './procs.js';

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

export function natsServerVersion(): string {
  return execFileSync(findNatsServer(), ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * A nats-server of the benchmark's own (the test kit's launcher): JetStream with file storage in a fresh temporary
 * directory, bound to 127.0.0.1 on free ports, `max_payload` raised by a configuration file.
 */
export async function startNats(): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-bench-nats-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(config, `max_payload: ${MAX_PAYLOAD_BYTES / 1024 / 1024}MB\n`);
  const server = await startNatsServer({ configFile: config, storeDir: join(dir, 'store') });
  return {
    url: server.url,
    pid: server.pid,
    storeDir: dir,
    async stats() {
      const varz = JSON.parse(await httpText(server.monitorPort, '/varz')) as Omit<
        ServerStats,
        'api_requests'
      > & {
        jetstream?: { stats?: { api?: { total?: number } } };
      };
      const { in_msgs, out_msgs, in_bytes, out_bytes } = varz;
      return { in_msgs, out_msgs, in_bytes, out_bytes, api_requests: varz.jetstream?.stats?.api?.total ?? 0 };
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
