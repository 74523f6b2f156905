import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { type Env, readEnvironment, envVariable as variable } from '@orchestra/contracts';

/**
 * Running a nats-server on this machine: where its binary is and which port is free. The CLI's
 * `up` (an embedded server), the test kit's launcher and the benchmark all use these.
 */

const NOT_INSTALLED =
  'nats-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y nats-server`) ' +
  'or point NATS_URL at a running NATS server with JetStream enabled.';

/** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

/** What finding the binary reads besides PATH (README, "Configuration"). */
export const LOCAL_SERVER_ENVIRONMENT = {
  NATS_SERVER_BIN: variable.text(
    'the nats-server binary of orchestra up and the tests (default: nats-server on PATH or in /usr/sbin)',
  ),
} as const;

/**
 * The nats-server binary: `NATS_SERVER_BIN` when set (it must be executable), else the first
 * executable `nats-server` on PATH or in the usual system directories.
 */
export function findNatsServer(env: Env = process.env): string {
  const configured = readEnvironment(LOCAL_SERVER_ENVIRONMENT, env).NATS_SERVER_BIN;
  if (configured) {
    if (isExecutable(configured)) return configured;
    throw new Error(`NATS_SERVER_BIN is ${configured}, which is not an executable file`);
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  const found = dirs.map((dir) => join(dir, 'nats-server')).find(isExecutable);
  if (found) return found;
  throw new Error(NOT_INSTALLED);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on now (the system picks it); someone may take it before it is used. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
