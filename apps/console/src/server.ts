import { type AddressInfo, createServer } from 'node:net';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type BusLogger, openResultsBucket, resolveClaim, verifierFromKey } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { MetricsController, NestPinoLogger } from '@orchestra/observability';
import { loadAssets } from './assets.js';
import { ConsoleController, ConsoleHealthController } from './console.controller.js';
import { CONSOLE_DEPS, type ConsoleDeps } from './deps.js';
import { ExecutionIndex } from './index/execution-index.js';
import { startIndexFeed } from './index/feed.js';
import type { Capabilities } from './model/api-types.js';
import { apiError } from './requests.js';
import { createGuard, isLoopback } from './security.js';

export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 8080;
const INDEX_WAIT_MS = 30_000;

export interface ConsoleOptions {
  connection: NatsConnection;
  logger: BusLogger;
  /** Default 127.0.0.1: only this machine. `0.0.0.0` in a container, behind a token. */
  host?: string;
  /** Default 8080; 0 takes a free port. */
  port?: number;
  /** When the port is taken, take a free one instead of failing (the port was not chosen). */
  anyPortIfTaken?: boolean;
  /** ORCHESTRA_CONSOLE_TOKEN. */
  token?: string | undefined;
  /** The built page (default: apps/console/dist/ui). */
  assetsDir?: string;
  /** How the equivalent CLI commands start. Default `npx orchestra`. */
  cli?: string;
  /** Plans the submit page offers (default: the repository's examples/). */
  examplesDir?: string;
  /**
   * Public keys (nkey `U…`, PEM, `ed25519:…`) trusted to sign the event log: the replay check
   * verifies each record's signature with them. None: links and hashes only.
   */
  trustedKeys?: readonly string[];
}

export interface RunningConsole {
  /** The address to open (with ?token=... when a token is set). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What the page offers: a new action of the bus joins here and in ConsoleController. */
const CAPABILITIES: Capabilities = { cancel: true, submit: true, rerun: true, plugins: true };

@Module({})
class ConsoleModule {
  static forRoot(deps: ConsoleDeps): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController, ConsoleHealthController, MetricsController],
      providers: [{ provide: CONSOLE_DEPS, useValue: deps }],
    };
  }
}

/**
 * `orchestra console`: the web console on one HTTP port — the built page, the JSON API under
 * /api/, Server-Sent Events, /health/live and /health/ready for probes, /metrics (the process's).
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? DEFAULT_CONSOLE_HOST;
  const assets = loadAssets(options.assetsDir);
  const client = await OrchestraClient.using(options.connection);
  const js = jetstream(options.connection);
  const bus = { js, jsm: await jetstreamManager(options.connection) };
  const index = new ExecutionIndex();
  const feed = startIndexFeed(
    () => openResultsBucket(js),
    index,
    options.logger,
    (data) => resolveClaim(js, data),
  );
  let loaded = false;
  void feed.ready.then(() => {
    loaded = true;
  });
  const guard = createGuard({ token: options.token, loopbackOnly: isLoopback(host) });
  const deps: ConsoleDeps = {
    client,
    bus,
    index,
    indexReady: () => (loaded ? Promise.resolve() : waitForIndex(feed.ready)),
    isIndexLoaded: () => loaded,
    guard,
    logger: options.logger,
    capabilities: CAPABILITIES,
    cli: options.cli ?? 'npx orchestra',
    examplesDir: options.examplesDir,
    trusted: (options.trustedKeys ?? []).map((key) => verifierFromKey(key)),
  };
  const app = await NestFactory.create<NestExpressApplication>(
    ConsoleModule.forRoot(deps),
    new ExpressAdapter(),
    {
      logger: new NestPinoLogger(options.logger),
      bodyParser: false,
      abortOnError: false,
      forceCloseConnections: true,
    },
  );
  app.disable('x-powered-by');
  app.use(guard.handle);
  app.use(assets.handle);
  // A plan may be up to 4 MiB (LIMITS.planBytes), as JSON text inside the request.
  app.useBodyParser('json', { limit: '6mb' });
  const port = await listen(app, host, options.port ?? DEFAULT_CONSOLE_PORT, options.anyPortIfTaken ?? false);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/${options.token ? `?token=${encodeURIComponent(options.token)}` : ''}`;
  if (!options.token && !isLoopback(host)) {
    options.logger.warn({ host }, 'console: listening beyond this machine without ORCHESTRA_CONSOLE_TOKEN');
  }
  options.logger.info({ host, port }, 'console listening');
  return {
    url,
    port,
    async close() {
      feed.stop();
      await app.close();
    },
  };
}

async function listen(app: INestApplication, host: string, port: number, anyPortIfTaken: boolean) {
  const chosen = anyPortIfTaken && port !== 0 && !(await isFree(host, port)) ? 0 : port;
  try {
    await app.listen(chosen, host);
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { code?: unknown }).code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${host} is in use: choose another with --port`);
    }
    throw error;
  }
  return (app.getHttpServer().address() as AddressInfo).port;
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

function waitForIndex(ready: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(apiError(503, 'NOT_READY', 'the executions index is still loading; try again')),
      INDEX_WAIT_MS,
    );
  });
  return Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
}
