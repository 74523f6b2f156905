import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectNats, provisionAll, publishJson } from '@orchestra/bus';
import { Streams, Subjects } from '@orchestra/contracts';
import { type NatsClusterHandle, startNatsCluster } from './nats-cluster.js';

/**
 * The local 3-node cluster of the cluster fault suite, and what a publisher sees when the events
 * stream's leader dies (docs/reliability.md, "What a client sees during a leader election"): the
 * publish issued during the election is stored soon after the new leader is elected.
 */
describe('a local 3-node JetStream cluster', () => {
  let cluster: NatsClusterHandle;

  beforeAll(async () => {
    cluster = await startNatsCluster();
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('replicates the streams three times; a publish during a leader election is stored within 2 s of the new leader', async () => {
    const nc = await connectNats({ servers: cluster.urls.split(','), env: {}, reconnectTimeWaitMs: 100 });
    try {
      await provisionAll(nc, { replicas: 3 });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(Streams.events);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas).toHaveLength(2);
      const js = jetstream(nc);
      await publishJson(js, Subjects.events('cluster-probe'), [{ probe: 0 }]);
      const leader = await cluster.streamLeader(Streams.events);
      expect(leader).toBeDefined();

      await cluster.node(leader as string).kill();
      const killedAt = Date.now();
      const publishing = publishJson(js, Subjects.events('cluster-probe'), [{ probe: 1 }], {
        msgID: 'probe-1',
      });
      let electedAt = 0;
      let next: string | undefined;
      while (next === undefined || next === leader) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        next = await cluster.streamLeader(Streams.events);
        electedAt = Date.now();
      }
      const ack = await publishing;
      const storedAt = Date.now();
      expect(ack.seq).toBeGreaterThan(1);
      // Stored soon after the election, not after the whole request timeout and doubling retries.
      expect(storedAt - electedAt).toBeLessThan(2_000);
      expect(storedAt - killedAt).toBeLessThan(30_000);
      await cluster.node(leader as string).restart();
      await cluster.healthy();
    } finally {
      await nc.close();
    }
  }, 120_000);
});
