import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, freePort } from '@orchestra/bus';
import { startNatsServer } from '@orchestra/testing';
import { Redis } from 'ioredis';
import type { TrafficSource } from './meter.js';
import { sleep, startChild } from './procs.js';
import { round } from './stats.js';
import {
  type ConnectionCounters,
  type RedisStats,
  redisDelta,
  type ServerStats,
  serverDelta,
} from './traffic.js';

/** The payload limit the benchmark's nats-server runs with: room for a 10,000-task plan. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export interface NatsServer {
  readonly url: string;
  readonly pid: number;
  readonly storeDir: string;
  /** Counters of the server's /varz (messages and bytes in and out, JetStream API requests) and /connz. */
  stats(): Promise<ServerStats>;
  /** The same as a meter's traffic source (see serverDelta). */
  readonly traffic: TrafficSource<ServerStats>;
  /** The server's own memory (/varz mem) and what JetStream stores (/jsz), in MB. */
  memory(): Promise<ServerMemory>;
  stop(): Promise<void>;
}

export interface ServerMemory {
  mem_mb: number;
  jetstream_memory_mb: number;
  jetstream_storage_mb: number;
  streams: number;
  messages: number;
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
  const varz = async () => JSON.parse(await httpText(server.monitorPort, '/varz')) as Record<string, unknown>;
  const handle: NatsServer = {
    url: server.url,
    pid: server.pid,
    storeDir: dir,
    traffic: { read: () => handle.stats(), delta: serverDelta },
    async memory() {
      const jsz = JSON.parse(await httpText(server.monitorPort, '/jsz')) as Record<string, number>;
      const mb = (bytes: unknown) => round(Number(bytes ?? 0) / 1024 ** 2, 1);
      return {
        mem_mb: mb((await varz()).mem),
        jetstream_memory_mb: mb(jsz.memory),
        jetstream_storage_mb: mb(jsz.storage),
        streams: jsz.streams ?? 0,
        messages: jsz.messages ?? 0,
      };
    },
    async stats() {
      const counters = (await varz()) as unknown as ConnectionCounters & {
        jetstream?: { stats?: { api?: { total?: number } } };
      };
      const connz = JSON.parse(await httpText(server.monitorPort, '/connz?limit=4096')) as {
        connections?: Array<ConnectionCounters & { name?: string }>;
      };
      const connections: Record<string, ConnectionCounters> = {};
      for (const c of connz.connections ?? []) {
        const sum = connections[c.name ?? '?'] ?? { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
        for (const key of ['in_msgs', 'out_msgs', 'in_bytes', 'out_bytes'] as const) sum[key] += c[key];
        connections[c.name ?? '?'] = sum;
      }
      const { in_msgs, out_msgs, in_bytes, out_bytes } = counters;
      const api_requests = counters.jetstream?.stats?.api?.total ?? 0;
      return { in_msgs, out_msgs, in_bytes, out_bytes, api_requests, connections };
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
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
  /** The redis-server's process id (INFO's process_id), for its CPU time. */
  readonly pid: number;
  /** INFO's commands processed and network bytes; the server's, whoever sends them. */
  readonly traffic: TrafficSource<RedisStats>;
  stop(): Promise<void>;
}

/**
 * The Redis of the peer (BullMQ): the one on 127.0.0.1:6379 (or REDIS_PORT) when it answers,
 * otherwise a `redis-server` of our own on a free port, without persistence, stopped afterwards.
 */
export async function useRedis(): Promise<RedisHandle> {
  const port = Number(process.env.REDIS_PORT ?? 6379);
  const found = await redisInfo(port);
  if (found) return redisHandle(port, found, false, async () => undefined);
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
    const info = await redisInfo(ownPort);
    if (info) return redisHandle(ownPort, info, true, () => child.stop());
    if (child.process.exitCode !== null) break;
    await sleep(100);
  }
  await child.kill();
  throw new Error(`could not start redis-server: ${child.output() || 'is it installed?'}`);
}

function redisHandle(port: number, info: string, own: boolean, stop: () => Promise<void>): RedisHandle {
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  const read = async () => {
    const stats = await redisInfo(port);
    if (!stats) throw new Error('Redis did not answer INFO');
    const n = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? Number.NaN);
    return {
      commands: n('total_commands_processed'),
      in_bytes: n('total_net_input_bytes'),
      out_bytes: n('total_net_output_bytes'),
    };
  };
  return {
    host: '127.0.0.1',
    port,
    own,
    version: field('redis_version') ?? 'unknown',
    pid: Number(field('process_id') ?? -1),
    traffic: { read, delta: redisDelta },
    stop,
  };
}

/** INFO (every section) of the Redis on `port`, or undefined when none answers. */
async function redisInfo(port: number): Promise<string | undefined> {
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
    return await client.info();
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
