import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connectNats, DEFAULT_NATS_URL, ensureResultsBucket, provisionStreams } from '@orchestra/bus';
import { Buckets } from '@orchestra/contracts';
import type { CommandRegistration } from '../context.js';
import { natsUrl } from '../nats-location.js';
import { provisionSettings } from '../stack.js';

/**
 * `orchestra provision`: the admin step of a deployment with per-service NATS users. It creates
 * or updates the streams and the results bucket, then exits; the services then run with
 * ORCHESTRA_PROVISION=false under users that may not manage streams (deploy/nats/README.md).
 */
export const registerProvision: CommandRegistration = (program, cli) => {
  program
    .command('provision')
    .description(
      'create or update the streams and the results bucket, then exit (ORCHESTRA_STREAM_REPLICAS sets their replicas)',
    )
    .action(async () => {
      const { replicas } = provisionSettings(cli.io.env);
      const url = natsUrl(cli.io.env, cli.io.cwd) ?? DEFAULT_NATS_URL;
      const nc = await connectNats({ servers: url.split(','), name: 'orchestra-provision', env: cli.io.env });
      try {
        const jsm = await jetstreamManager(nc);
        for (const { stream, action } of await provisionStreams(jsm, { replicas })) {
          cli.out(`${stream}: ${action}`);
        }
        await ensureResultsBucket(new Kvm(jetstream(nc)), { replicas });
        cli.out(`KV ${Buckets.results}: ready`);
      } finally {
        await nc.close();
      }
    });
};
