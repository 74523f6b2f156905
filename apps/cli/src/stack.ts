import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type BusLogger,
  closeConnection,
  connectNats,
  findNatsServer,
  freePort,
  isPortFree,
  provisionAll,
  type RunningService,
  retentionFromEnv,
  within,
} from '@orchestra/bus';
import { type Env, environmentError, readEnvironment } from '@orchestra/contracts';
import { DISPATCHER_ENVIRONMENT, type LoadedPlugins, startDispatcher } from '@orchestra/dispatcher';
import {
  type HealthServer,
  healthServerSettings,
  startHealthServer,
  startTracing,
} from '@orchestra/observability';
import { orchestratorSettings, startOrchestrator } from '@orchestra/orchestrator';
import { startResults } from '@orchestra/results';
import { PROVISION_ENVIRONMENT, serviceEnvironmentProblems } from './environment.js';
import { STATE_DIR, URL_FILE } from './nats-location.js';
import { withSigningKey } from './signing-key.js';

export const SERVICES = ['orchestrator', 'dispatcher', 'results'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface StackOptions {
  services: readonly ServiceName[];
  /** Connect here; without it an embedded nats-server is started with its store under .orchestra/. */
  natsUrl?: string | undefined;
  logger: BusLogger;
  cwd?: string;
  /** The variables of the chosen services (SERVICE_ENVIRONMENTS, README "Configuration"). Default `process.env`. */
  env?: Env;
  /** What the dispatcher hosts (a plugins file, loaded); default builtin only. */
  plugins?: LoadedPlugins;
}

export interface ProvisionSettings {
  /** Create or update the streams and the results bucket before starting. */
  provision: boolean;
  /** Replicas of every stream and of the bucket. */
  replicas: number;
}

/** `ORCHESTRA_PROVISION` and `ORCHESTRA_STREAM_REPLICAS` (see PROVISION_ENVIRONMENT). */
export function provisionSettings(env: Env): ProvisionSettings {
  const values = readEnvironment(PROVISION_ENVIRONMENT, env);
  return { provision: values.ORCHESTRA_PROVISION, replicas: values.ORCHESTRA_STREAM_REPLICAS };
}

export interface Stack {
  natsUrl: string;
  /** Port of /health/live, /health/ready and /metrics; undefined when the server is off. */
  healthPort?: number;
  stop(): Promise<void>;
}

/** `orchestra up`: the chosen services in this process, and an embedded nats-server when needed. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  // Every problem of the environment at once, before anything starts.
  const problems = serviceEnvironmentProblems(options.services, env);
  if (problems.length > 0) throw environmentError(problems);
  const settings = provisionSettings(env);
  const orchestrator = options.services.includes('orchestrator')
    ? withSigningKey(orchestratorSettings(env), cwd, options.logger)
    : {};
  const instance = readEnvironment(DISPATCHER_ENVIRONMENT, env).ORCHESTRA_INSTANCE;
  const dispatcher = { ...options.plugins, ...(instance ? { instance } : {}) };
  const healthSettings = healthServerSettings(env);
  const tracing = startTracing({ serviceName: serviceName(options.services), env, logger: options.logger });
  let health: HealthServer | undefined;
  let embedded: EmbeddedServer | undefined;
  let url = options.natsUrl ?? '';
  const connections: NatsConnection[] = [];
  const running: RunningService[] = [];
  const stop = async () => {
    // Each step is bounded (README, "Stopping"): the services together, then the connections.
    await Promise.all(running.reverse().map((service) => service.stop().catch(() => undefined)));
    await Promise.all(connections.map((nc) => closeConnection(nc)));
    await embedded?.stop();
    await health?.close().catch(() => undefined);
    await within(tracing.shutdown(), 1_000);
  };
  try {
    // First, so that liveness answers while the services wait for NATS; ready once they are bound.
    if (healthSettings) health = await startHealthServer(healthSettings, options.logger);
    if (!options.natsUrl) {
      embedded = await startEmbeddedServer(cwd, options.logger);
      url = embedded.url;
    }
    if (settings.provision) {
      const admin = await connectNats({ servers: url.split(','), name: 'orchestra-up', env });
      connections.push(admin);
      await provisionAll(admin, { replicas: settings.replicas, retention: retentionFromEnv(env) });
    }
    for (const name of options.services) {
      const connection = await connectNats({ servers: url.split(','), name: `orchestra-${name}`, env });
      connections.push(connection);
      const start = { orchestrator: startOrchestrator, dispatcher: startDispatcher, results: startResults }[
        name
      ];
      const extra = name === 'orchestrator' ? orchestrator : name === 'dispatcher' ? dispatcher : {};
      running.push(await start({ connection, logger: options.logger, provision: false, ...extra }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { natsUrl: url, ...(health ? { healthPort: health.port } : {}), stop };
}

/** The resource's service.name of the spans (OTEL_SERVICE_NAME overrides it). */
function serviceName(services: readonly ServiceName[]): string {
  return services.length === SERVICES.length ? 'orchestra' : `orchestra-${services.join('-')}`;
}

interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

async function startEmbeddedServer(cwd: string, logger: BusLogger): Promise<EmbeddedServer> {
  const binary = findNatsServer();
  const stateDir = resolve(cwd, STATE_DIR);
  const storeDir = join(stateDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const port = (await isPortFree(4222)) ? 4222 : await freePort();
  const child: ChildProcess = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const url = `nats://127.0.0.1:${port}`;
  await waitForPort(port, child, () => output);
  writeFileSync(resolve(cwd, URL_FILE), url);
  logger.info({ url, store: storeDir, pid: child.pid }, 'embedded nats-server started');
  return {
    url,
    async stop() {
      rmSync(resolve(cwd, URL_FILE), { force: true });
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}): ${output()}`);
    if (!(await isPortFree(port))) return;
    await sleep(50);
  }
  throw new Error(`nats-server did not listen on port ${port}: ${output()}`);
}
