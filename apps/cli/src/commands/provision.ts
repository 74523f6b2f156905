import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, DEFAULT_NATS_URL, provisionEverything, retentionFromEnv } from '@orchestra/bus';
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
      'create or update the streams, the results bucket and the payloads object store, then exit (ORCHESTRA_STREAM_REPLICAS sets their replicas, ORCHESTRA_*_MAX_AGE and _MAX_BYTES their retention)',
    )
    .action(async () => {
      const { replicas } = provisionSettings(cli.io.env);
      const url = natsUrl(cli.io.env, cli.io.cwd) ?? DEFAULT_NATS_URL;
      const nc = await connectNats({ servers: url.split(','), name: 'orchestra-provision', env: cli.io.env });
      try {
        const jsm = await jetstreamManager(nc);
        const retention = retentionFromEnv(cli.io.env);
        for (const { stream, action } of await provisionEverything(jsm, { replicas, retention })) {
          cli.out(`${stream}: ${action}`);
        }
      } finally {
        await nc.close();
      }
    });
};
