import { connectNats, listWorkers, noopLogger, unservedPlugins } from '@orchestra/bus';
import { WORKER_SERVICE } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { DispatchHarness } from '../../../test/support/dispatch-harness.js';
import { startDispatcher } from './main.js';

// Every dispatcher announces what it serves (NATS service API, `orchestra-worker`): listed with
// its counts, probed per plugin, gone when it stops.

const server = useNatsServer();

describe('the plugin announcement', () => {
  it('lists each plugin of each live dispatcher with kind, instance, concurrency and counts', async () => {
    const harness = await DispatchHarness.start(
      server(),
      'plugins: [{ name: backup@cowork, kind: builtin, concurrency: 3 }]',
      {},
    );
    const other = await connectNats({ servers: [server().url], name: 'second-dispatcher', env: {} });
    const second = await startDispatcher({
      connection: other,
      logger: noopLogger,
      instance: 'second',
      concurrency: 5,
    });
    try {
      await harness.run(
        harness.command('backup@cowork', { entry_point: { type: 'function', value: 'echo' } }),
      );
      await harness.run(
        harness.command('backup@cowork', { entry_point: { type: 'function', value: 'fail' } }),
      );
      const workers = await listWorkers(harness.nc);
      expect(workers.map(({ id: _id, version: _version, ...rest }) => rest)).toEqual([
        {
          plugin: 'backup@cowork',
          kind: 'builtin',
          instance: 'harness',
          concurrency: 3,
          in_flight: 0,
          processed: 2,
          failed: 1,
        },
        {
          plugin: 'builtin',
          kind: 'builtin',
          instance: 'harness',
          concurrency: 16,
          in_flight: 0,
          processed: 0,
          failed: 0,
        },
        {
          plugin: 'builtin',
          kind: 'builtin',
          instance: 'second',
          concurrency: 5,
          in_flight: 0,
          processed: 0,
          failed: 0,
        },
      ]);
      expect(
        await unservedPlugins(harness.nc, ['builtin', 'backup@cowork', 'legal@cowork', 'finance@cowork']),
      ).toEqual(['finance@cowork', 'legal@cowork']);
    } finally {
      await second.stop();
      await other.close();
    }
    // Stopped: gone from the listing at once, though its connection closed only now.
    expect((await listWorkers(harness.nc)).map((w) => w.instance)).not.toContain('second');
    await harness.stop();
    const probe = await connectNats({ servers: [server().url], name: 'probe', env: {} });
    expect(await unservedPlugins(probe, ['backup@cowork'])).toEqual(['backup@cowork']);
    await probe.close();
  });

  it('answers $SRV.INFO as the NATS service API says, for any client (nats micro ls)', async () => {
    const nc = await connectNats({ servers: [server().url], name: 'raw-client', env: {} });
    const dispatcher = await startDispatcher({ connection: nc, logger: noopLogger, instance: 'raw' });
    try {
      const reply = await nc.request(`$SRV.INFO.${WORKER_SERVICE}`, undefined, { timeout: 2000 });
      expect(reply.json()).toMatchObject({
        type: 'io.nats.micro.v1.info_response',
        name: 'orchestra-worker',
        metadata: { instance: 'raw' },
        endpoints: [
          {
            name: 'builtin',
            subject: 'orchestra.workers.builtin',
            queue_group: 'orchestra-worker',
            metadata: { plugin: 'builtin', kind: 'builtin', concurrency: '16' },
          },
        ],
      });
      const probe = await nc.request('orchestra.workers.builtin', undefined, { timeout: 2000 });
      expect(probe.json()).toEqual({
        plugin: 'builtin',
        kind: 'builtin',
        concurrency: 16,
        instance: 'raw',
        in_flight: 0,
        processed: 0,
        failed: 0,
      });
    } finally {
      await dispatcher.stop();
      await nc.close();
    }
  });
});
