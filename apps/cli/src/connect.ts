import { DEFAULT_NATS_URL } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import type { Cli } from './context.js';
import { natsUrl } from './nats-location.js';

/** Connects the client to the server `natsUrl` names, with an error that says what to do. */
export async function connectClient(cli: Cli): Promise<OrchestraClient> {
  const url = natsUrl(cli.io.env, cli.io.cwd) ?? DEFAULT_NATS_URL;
  try {
    return await OrchestraClient.connect({ servers: url.split(','), env: cli.io.env });
  } catch (error) {
    throw new Error(
      `cannot reach NATS at ${url} (${(error as Error).message}). Start it with "npx orchestra up" or set NATS_URL.`,
    );
  }
}

/** Runs `work` with a connected client and always closes it. */
export async function withClient<T>(cli: Cli, work: (client: OrchestraClient) => Promise<T>): Promise<T> {
  const client = await connectClient(cli);
  try {
    return await work(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}
