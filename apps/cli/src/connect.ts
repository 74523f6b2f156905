import { OrchestraClient } from '@orchestra/client';
import type { Cli } from './context.js';
import { locateNats, type NatsLocation } from './nats-location.js';

/** Runs `work` with a connected client and always closes it; errors say what to do about them. */
export async function withClient<T>(cli: Cli, work: (client: OrchestraClient) => Promise<T>): Promise<T> {
  const location = locateNats(cli.io.env, cli.io.cwd);
  let client: OrchestraClient;
  try {
    client = await OrchestraClient.connect({ servers: location.url.split(','), env: cli.io.env });
  } catch (error) {
    throw new Error(connectProblem(error, location));
  }
  try {
    return await work(client);
  } catch (error) {
    if (lacksStreams(error)) throw new Error(noStreams(location));
    throw error;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * nats-server 2.9 answers a publish to a subject no stream captures with "jetstream is not
 * enabled", and a lookup of a missing stream or bucket with "stream not found".
 */
function lacksStreams(error: unknown): boolean {
  return /jetstream is not enabled|stream not found|bucket not found/i.test(messageOf(error));
}

const WAYS_OUT =
  'Either start Orchestra with its own server from this directory: `npx orchestra up`; ' +
  'or create the streams on this server with `orchestra provision` and start the services ' +
  'against it: `NATS_URL=<url> npx orchestra up`.';

function noStreams(location: NatsLocation): string {
  return `the NATS server at ${location.url} has no Orchestra streams (${location.note}). ${WAYS_OUT.replaceAll('<url>', location.url)}`;
}

function connectProblem(error: unknown, location: NatsLocation): string {
  const message = messageOf(error);
  if (/jetstream is not enabled/i.test(message)) {
    return (
      `the NATS server at ${location.url} runs without JetStream (${location.note}). ` +
      'Start Orchestra with its own server from this directory: `npx orchestra up`; or restart that ' +
      'server with JetStream (`nats-server -js`), then run `orchestra provision` against it.'
    );
  }
  return `cannot reach NATS at ${location.url} (${message}; ${location.note}). Start it with "npx orchestra up" or set NATS_URL.`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
