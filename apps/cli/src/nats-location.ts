import { DEFAULT_NATS_URL } from '@orchestra/bus';
import { isRunning, readUpRecord, UP_FILE } from './up-record.js';

export interface NatsLocation {
  url: string;
  /** Where the address came from, said in errors so that no fallback is silent. */
  source: 'NATS_URL' | 'orchestra up' | 'default';
  /** What to tell a user who finds nothing there. */
  note: string;
}

/**
 * The NATS address every command uses: NATS_URL when set, else the embedded server of the
 * `orchestra up` running from this directory (`.orchestra/up.json`), else the default local
 * server. The embedded server is used as long as it runs, even while its `up` is stopping.
 */
export function locateNats(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): NatsLocation {
  if (env.NATS_URL) return { url: env.NATS_URL, source: 'NATS_URL', note: 'NATS_URL is set' };
  const record = readUpRecord(cwd);
  const upRuns = record !== undefined && isRunning(record.pid, record.pid_start);
  // While its `up` or its server runs, the embedded server is the one: never another one instead.
  if (record?.url && (upRuns || isRunning(record.nats_pid, record.nats_start))) {
    return {
      url: record.url,
      source: 'orchestra up',
      note: `it is the server of the orchestra up started from this directory (pid ${record.pid}, ${UP_FILE})`,
    };
  }
  const why = upRuns
    ? `the orchestra up running from this directory (pid ${record.pid}) has no server yet`
    : record
      ? `the orchestra up recorded in ${UP_FILE} (pid ${record.pid}) is no longer running`
      : 'no orchestra up runs from this directory';
  return {
    url: DEFAULT_NATS_URL,
    source: 'default',
    note: `${why} and NATS_URL is not set, so the default ${DEFAULT_NATS_URL} was used`,
  };
}

/** The address alone (`locateNats`), for commands that only need to connect. */
export function natsUrl(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return locateNats(env, cwd).url;
}
