import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { OrchestraClient } from '@orchestra/client';
import { Streams } from '@orchestra/contracts';
import { type NatsClusterHandle, type NatsClusterNode, startNatsCluster } from '@orchestra/testing';
import { ServiceProcess } from '../support/cli.js';
import {
  type ClusterFault,
  ClusterLong,
  ClusterShort,
  clusterFaultOrder,
  percentile,
} from './cluster-schedule.js';
import { failuresOf, SIGNING_KEY, startLoad, VERIFY_KEY, verifyAll } from './run.js';
import { seededRandom } from './schedule.js';
import { table, verifyLog } from './verify.js';

/**
 * The production topology under faults (docs/reliability.md): a 3-node JetStream cluster with
 * every stream and bucket replicated 3 times, 2 orchestrators, 2 dispatchers and 2 results
 * services connected to all three nodes, under continuous load, while a seeded schedule kill -9s
 * nodes (at least a third of the kills hit the events stream's leader, read from /jsz) and does
 * rolling restarts of all three as Kubernetes would. Afterwards: nothing lost, nothing counted
 * twice, results equal to the log; and how long executions stalled after each leader kill.
 * FAULTS=long for the long form, FAULTS_SEED to replay a schedule.
 */
const long = process.env.FAULTS === 'long';
const settings = {
  ...(long ? ClusterLong : ClusterShort),
  seed: Number(process.env.FAULTS_SEED ?? Date.now() % 100_000),
};
const ROLES = ['orchestrator', 'dispatcher', 'results'] as const;
const REPLICAS_PER_ROLE = 2;

interface Recovery {
  /** From the kill to the first answer of the events stream (a live leader). */
  electionMs: number;
  /** From the new leader's first answer to the first answer with a record stored after it. */
  progressMs: number;
}

describe(`cluster fault suite (${long ? 'long' : 'short'}, seed ${settings.seed})`, () => {
  let cluster: NatsClusterHandle;
  let progress: Awaited<ReturnType<typeof sampleProgress>> | undefined;
  const services: ServiceProcess[] = [];

  afterAll(async () => {
    progress?.stop();
    for (const service of services) await service.kill();
    await cluster?.stop();
  });

  it('loses nothing and counts nothing twice through node kills, leader kills and rolling restarts', async () => {
    cluster = await startNatsCluster();
    const env = {
      ORCHESTRA_STREAM_REPLICAS: '3',
      NATS_RECONNECT_WAIT_MS: '250',
      ORCHESTRA_SIGNING_KEY: SIGNING_KEY,
    };
    for (const role of ROLES) {
      for (let i = 0; i < REPLICAS_PER_ROLE; i++)
        services.push(await ServiceProcess.start(role, cluster.urls, env));
    }
    const client = await OrchestraClient.connect({
      servers: cluster.urls.split(','),
      env: {},
      reconnectTimeWaitMs: 250,
    });
    const sampler = await sampleProgress(client);
    progress = sampler;
    const random = seededRandom(settings.seed);
    const recoveries: Recovery[] = [];
    let nodeKills = 0;
    let leaderKills = 0;
    let rollingRestarts = 0;
    let stuckRestarts = 0;
    const load = startLoad(client, `cluster-${settings.seed}`, settings.executions, settings.submitPauseMs);

    for (const fault of clusterFaultOrder(settings, random)) {
      await sleep(settings.pauseMs[0] + random() * (settings.pauseMs[1] - settings.pauseMs[0]));
      if (fault === 'rolling') {
        stuckRestarts += await rollingRestart();
        rollingRestarts++;
        continue;
      }
      const leader = await currentLeader();
      const node = pick(fault, leader, random);
      const killedAt = Date.now();
      await node.kill();
      nodeKills++;
      const measuring = node.name === leader ? measureRecovery(sampler, killedAt) : undefined;
      if (measuring) leaderKills++;
      await sleep(random() * settings.downMs);
      await node.restart();
      const recovery = await measuring;
      if (recovery) recoveries.push(recovery);
      // Never two nodes down at once: the next fault waits for this one to catch up.
      stuckRestarts += await caughtUp();
    }
    await load.finish();
    const verdicts = await verifyAll(client, load.accepted, async (id, verdict) => {
      verdict.chainProblem = await verifyLog(cluster.urls, id, VERIFY_KEY);
    });
    sampler.stop();
    await client.close();

    const after = recoveries.map((r) => r.progressMs);
    const fromKill = recoveries.map((r) => r.electionMs + r.progressMs);
    const summary = { executions: load.accepted.size, kills: {}, verdicts };
    console.log(
      `cluster fault suite, seed ${settings.seed}\n${table(summary, [
        ['node kills (kill -9)', nodeKills],
        ['  of the events leader', leaderKills],
        ['rolling restarts', rollingRestarts],
        ['nodes restarted again (not current, or a copy stuck)', stuckRestarts],
      ])}\n` +
        `| election after a leader kill, p50 / p99 ms | ${percentile(
          recoveries.map((r) => r.electionMs),
          50,
        )} / ${percentile(
          recoveries.map((r) => r.electionMs),
          99,
        )} |\n` +
        `| progress after the election, p50 / p99 ms  | ${percentile(after, 50)} / ${percentile(after, 99)} |\n` +
        `| progress after the kill, p50 / p99 ms      | ${percentile(fromKill, 50)} / ${percentile(fromKill, 99)} |`,
    );
    expect(failuresOf(verdicts)).toEqual([]);
    expect(load.accepted.size).toBeGreaterThanOrEqual(settings.executions);
    // Executions move again within 2 s of the new leader (the issue measured up to 29 s).
    expect(percentile(after, 99)).toBeLessThan(2_000);
  });

  async function currentLeader(): Promise<string> {
    for (;;) {
      const leader = await cluster.streamLeader(Streams.events);
      if (leader) return leader;
      await sleep(100);
    }
  }

  function pick(fault: ClusterFault, leader: string, random: () => number): NatsClusterNode {
    if (fault === 'leader') return cluster.node(leader);
    return cluster.nodes[Math.floor(random() * cluster.nodes.length)] as NatsClusterNode;
  }

  /**
   * The new leader's election and the first record stored after it, as a client sees them: the
   * first stream info answered after the kill (only a live leader answers it; the killed node may
   * win again once restarted), then the first answer with a later last sequence than that one.
   */
  async function measureRecovery(sampler: NonNullable<typeof progress>, killedAt: number): Promise<Recovery> {
    const elected = await sampler.answeredSince(killedAt, 0);
    const progressed = await sampler.answeredSince(elected.askedAt, elected.seq);
    return { electionMs: elected.at - killedAt, progressMs: progressed.at - elected.at };
  }

  /** Asks the events stream for its last sequence every 100 ms, keeping when each answer was asked for. */
  async function sampleProgress(client: OrchestraClient) {
    const jsm = await jetstreamManager(client.nc, { timeout: 500 });
    const samples: { askedAt: number; at: number; seq: number }[] = [];
    let running = true;
    void (async () => {
      while (running) {
        const askedAt = Date.now();
        try {
          const seq = (await jsm.streams.info(Streams.events)).state.last_seq;
          samples.push({ askedAt, at: Date.now(), seq });
          if (samples.length > 10_000) samples.splice(0, 5_000);
        } catch {
          // no leader yet: that is what is being measured
        }
        await sleep(100);
      }
    })();
    return {
      /** The first answer asked for after `after` with a last sequence above `seq`. */
      async answeredSince(after: number, seq: number): Promise<{ askedAt: number; at: number; seq: number }> {
        for (;;) {
          const found = samples.find((sample) => sample.askedAt > after && sample.seq > seq);
          if (found) return found;
          if (Date.now() - after > 180_000)
            throw new Error('the events stream did not answer within 180 s of a leader kill');
          await sleep(50);
        }
      },
      stop: () => {
        running = false;
      },
    };
  }

  /** As Kubernetes rolls a StatefulSet: each node in turn stopped (SIGTERM), started, caught up. */
  async function rollingRestart(): Promise<number> {
    let stuck = 0;
    for (const node of [...cluster.nodes].reverse()) {
      await node.stop({ keepStore: true });
      await node.restart();
      stuck += await caughtUp();
    }
    return stuck;
  }

  /**
   * Waits until every node is current (/healthz) and every node's copy of every stream has caught
   * up with what its leader held. A node still not current after 3 minutes, or whose copy of a
   * stream stopped catching up for a minute (nats-server 2.9 after a kill -9: /healthz says ok, and
   * a consumer led from that node delivers nothing more), is restarted once, as an operator would
   * (logged, and counted in the table); after that the suite gives up. Returns how many it restarted.
   */
  async function caughtUp(): Promise<number> {
    let restarted = 0;
    try {
      await cluster.healthy(180_000);
    } catch {
      const stuck = await cluster.unhealthy();
      console.log(
        `not current after 3 min, restarted: ${stuck.map((s) => `${s.node.name} (${s.health})`).join(', ')}`,
      );
      for (const { node } of stuck) await node.restart();
      await cluster.healthy(180_000);
      restarted += stuck.length;
    }
    const behind = await cluster.lagging(60_000);
    if (behind.length > 0) {
      console.log(
        `stream copies stuck behind their leader for 1 min, restarted: ${behind
          .map((b) => `${b.node.name} (${b.streams.join(', ')})`)
          .join('; ')}`,
      );
      for (const { node } of behind) await node.restart();
      await cluster.healthy(180_000);
      const still = await cluster.lagging(120_000);
      if (still.length > 0)
        throw new Error(
          `stream copies still behind after a restart: ${JSON.stringify(still.map((b) => [b.node.name, b.streams]))}`,
        );
      restarted += behind.length;
    }
    return restarted;
  }
});
