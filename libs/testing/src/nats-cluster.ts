import { get as httpGet } from 'node:http';
import { freePort } from '@orchestra/bus';
import { type NatsServerHandle, startNatsServer } from './nats-server.js';

/**
 * A local JetStream cluster for tests: three (or `size`) `nats-server -js` processes on loopback,
 * each with its own ports and store directory, routed to each other as the production overlay's
 * StatefulSet is (deploy/k8s). Services connect with every node's URL (`NATS_URL` as a
 * comma-separated list); streams get as many replicas as there are nodes.
 */
export interface NatsClusterHandle {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  readonly urls: string;
  /** The node whose server name is `name`. */
  node(name: string): NatsClusterNode;
  /**
   * The current leader of a stream (its server name), read from a live node's monitoring
   * endpoint (`/jsz`); undefined while none is elected.
   */
  streamLeader(stream: string): Promise<string | undefined>;
  /** Waits until every node answers /healthz (JetStream current with its peers). */
  healthy(timeoutMs?: number): Promise<void>;
  /** The nodes whose /healthz is not 200 now, with what it says. */
  unhealthy(): Promise<{ node: NatsClusterNode; health: string }[]>;
  /**
   * Waits until every node's copy of every stream holds what the stream's leader held when this
   * was called (its last sequence), and returns the nodes still short of it after `timeoutMs`, with
   * the streams they lag on. /healthz does not see it: on nats-server 2.9 a replica restarted after
   * a kill -9 can stop catching up while its node reports healthy, and a consumer led from that
   * node then delivers nothing more (docs/reliability.md).
   */
  lagging(timeoutMs?: number): Promise<{ node: NatsClusterNode; streams: string[] }[]>;
  stop(): Promise<void>;
}

export interface NatsClusterNode extends NatsServerHandle {
  /** The server name (`-n`), as the monitoring endpoint reports leaders. */
  readonly name: string;
  /** Whether the process runs (between a kill and a restart it does not). */
  readonly running: boolean;
}

export async function startNatsCluster(
  options: { size?: number; verbose?: boolean } = {},
): Promise<NatsClusterHandle> {
  const size = options.size ?? 3;
  const names = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const clusterPorts = await Promise.all(names.map(() => freePort()));
  const routes = clusterPorts.map((port) => `nats://127.0.0.1:${port}`);
  // All at once: a clustered server is ready only once its peers elect a meta leader.
  const started = await Promise.allSettled(
    names.map((name, i) =>
      startNatsServer({
        args: [
          '-n',
          name,
          '--cluster_name',
          'orchestra',
          '--cluster',
          `nats://127.0.0.1:${clusterPorts[i]}`,
          '--routes',
          routes.filter((_, j) => j !== i).join(','),
        ],
        readyTimeoutMs: 60_000,
        ...(options.verbose ? { verbose: true } : {}),
      }),
    ),
  );
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // Nothing is handed back to stop them: stop the nodes that did start before failing.
    await Promise.all(servers.map((server) => server.stop()));
    throw failed.reason;
  }
  const nodes = servers.map((server, i) => clusterNode(server, names[i] as string));
  const handle: NatsClusterHandle = {
    nodes,
    urls: nodes.map((node) => node.url).join(','),
    node(name) {
      const found = nodes.find((node) => node.name === name);
      if (!found) throw new Error(`no node ${name} in the cluster`);
      return found;
    },
    async streamLeader(stream) {
      for (const node of nodes) {
        if (!node.running) continue;
        const leader = await leaderFrom(node.monitorPort, stream).catch(() => undefined);
        if (leader !== undefined) return leader;
      }
      return undefined;
    },
    async healthy(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (const node of nodes) {
        for (;;) {
          const health = await healthz(node.monitorPort);
          if (health.status === 200) break;
          if (Date.now() > deadline)
            throw new Error(`node ${node.name} not healthy after ${timeoutMs} ms: ${health.body}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    },
    async unhealthy() {
      const found: { node: NatsClusterNode; health: string }[] = [];
      for (const node of nodes) {
        const health = await healthz(node.monitorPort);
        if (health.status !== 200) found.push({ node, health: health.body });
      }
      return found;
    },
    async lagging(timeoutMs = 60_000) {
      const states = async () =>
        Promise.all(
          nodes.map(async (node) =>
            node.running ? await streamStates(node.monitorPort).catch(() => undefined) : undefined,
          ),
        );
      // What each stream's leader holds now: every copy must reach it.
      const targets = new Map<string, number>();
      for (const [i, state] of (await states()).entries()) {
        for (const [stream, { leader, lastSeq }] of state ?? []) {
          if (leader === nodes[i]?.name) targets.set(stream, lastSeq);
        }
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const behind: { node: NatsClusterNode; streams: string[] }[] = [];
        for (const [i, state] of (await states()).entries()) {
          const node = nodes[i] as NatsClusterNode;
          if (!node.running) continue;
          const streams = [...targets].flatMap(([stream, target]) =>
            (state?.get(stream)?.lastSeq ?? -1) < target ? [stream] : [],
          );
          if (streams.length > 0) behind.push({ node, streams });
        }
        if (behind.length === 0 || Date.now() > deadline) return behind;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
  try {
    await handle.healthy();
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

function clusterNode(server: NatsServerHandle, name: string): NatsClusterNode {
  let running = true;
  return {
    name,
    get running() {
      return running;
    },
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    get monitorPort() {
      return server.monitorPort;
    },
    storeDir: server.storeDir,
    get pid() {
      return server.pid;
    },
    async stop(stopOptions) {
      running = false;
      await server.stop(stopOptions);
    },
    async kill() {
      running = false;
      await server.kill();
    },
    async restart() {
      running = false;
      await server.restart();
      running = true;
    },
    output: () => server.output(),
  };
}

interface JszAccounts {
  account_details?: {
    stream_detail?: { name: string; cluster?: { leader?: string }; state?: { last_seq?: number } }[];
  }[];
}

/** A node's own copy of each stream it holds: its last sequence, and the leader it knows of. */
async function streamStates(monitorPort: number): Promise<Map<string, { leader?: string; lastSeq: number }>> {
  const body = await getJson<JszAccounts>(monitorPort, '/jsz?accounts=true&streams=true');
  const states = new Map<string, { leader?: string; lastSeq: number }>();
  for (const account of body.account_details ?? []) {
    for (const detail of account.stream_detail ?? []) {
      const leader = detail.cluster?.leader;
      states.set(detail.name, { ...(leader ? { leader } : {}), lastSeq: detail.state?.last_seq ?? 0 });
    }
  }
  return states;
}

/** The leader a node's `/jsz` reports for `stream` (every account's streams). */
async function leaderFrom(monitorPort: number, stream: string): Promise<string | undefined> {
  const body = await getJson<JszAccounts>(monitorPort, '/jsz?accounts=true&streams=true');
  for (const account of body.account_details ?? []) {
    for (const detail of account.stream_detail ?? []) {
      if (detail.name === stream && detail.cluster?.leader) return detail.cluster.leader;
    }
  }
  return undefined;
}

function getJson<T>(port: number, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(text) as T);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** `/healthz`: 200 once JetStream is current with its peers, else 503 and the reason. */
function healthz(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
  });
}
