import type { NatsConnection } from '@nats-io/transport-node';
import {
  type BusLogger,
  cachedExecutionsFromEnv,
  closeConnection,
  connectNats,
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
import { type EmbeddedServer, startEmbeddedServer } from './embedded-nats.js';
import { PROVISION_ENVIRONMENT, serviceEnvironmentProblems } from './environment.js';
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
  /** The embedded server's store (`.orchestra/nats`); undefined with NATS_URL. */
  store?: string;
  /** Port of /health/live, /health/ready and /metrics; undefined when the server is off. */
  healthPort?: number;
  /** Why the health server is not on the default port (that one was taken), if it is not. */
  healthPortNote?: string;
  /**
   * Stops the services, closes their connections, then stops the embedded server. Each step is
   * bounded (STOP_BUDGET), shorter when NATS does not answer, so it ends promptly whatever state
   * NATS is in (down, or frozen).
   */
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
  const cachedExecutions = cachedExecutionsFromEnv(env);
  const instance = readEnvironment(DISPATCHER_ENVIRONMENT, env).ORCHESTRA_INSTANCE;
  const dispatcher = { ...options.plugins, ...(instance ? { instance } : {}) };
  const healthSettings = healthServerSettings(env);
  const tracing = startTracing({ serviceName: serviceName(options.services), env, logger: options.logger });
  let health: HealthServer | undefined;
  let healthPortNote: string | undefined;
  let embedded: EmbeddedServer | undefined;
  let url = options.natsUrl ?? '';
  const connections: NatsConnection[] = [];
  const running: RunningService[] = [];
  const stop = async () => {
    // Draining needs a server that answers: one that is gone or frozen gets short waits instead.
    const first = connections[0];
    const answering = first !== undefined && (await succeedsWithin(first.flush(), PROBE_MS));
    const budget = answering ? STOP_BUDGET.answering : STOP_BUDGET.unanswered;
    await within(
      Promise.all(running.reverse().map((service) => service.stop().catch(() => undefined))),
      budget.servicesMs,
    );
    await Promise.all(
      connections.map((nc) =>
        answering
          ? closeConnection(nc, budget.drainMs)
          : within(
              nc.close().catch(() => undefined),
              budget.drainMs,
            ),
      ),
    );
    await Promise.all([
      embedded?.stop(budget.serverGraceMs),
      health &&
        within(
          health.close().catch(() => undefined),
          budget.drainMs,
        ),
      within(tracing.shutdown(), budget.drainMs),
    ]);
  };
  try {
    // The store is claimed before anything else starts: a second `up` from this directory stops here.
    if (!options.natsUrl) {
      embedded = await startEmbeddedServer(cwd, options.logger);
      url = embedded.url;
    }
    // Before the services, so that liveness answers while they wait for NATS; ready once they are bound.
    if (healthSettings) {
      const port = await healthPort(healthSettings);
      if (port !== healthSettings.port) healthPortNote = `:${healthSettings.port} is taken`;
      health = await startHealthServer({ ...healthSettings, port }, options.logger);
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
      const extra =
        name === 'orchestrator'
          ? { ...orchestrator, cachedExecutions }
          : name === 'dispatcher'
            ? dispatcher
            : { cachedExecutions };
      running.push(await start({ connection, logger: options.logger, provision: false, ...extra }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    natsUrl: url,
    ...(embedded ? { store: embedded.store } : {}),
    ...(health ? { healthPort: health.port } : {}),
    ...(healthPortNote ? { healthPortNote } : {}),
    stop,
  };
}

/** The resource's service.name of the spans (OTEL_SERVICE_NAME overrides it). */
function serviceName(services: readonly ServiceName[]): string {
  return services.length === SERVICES.length ? 'orchestra' : `orchestra-${services.join('-')}`;
}

/** How long a stop waits for NATS to answer a flush before it takes the server for gone. */
const PROBE_MS = 1_000;
/**
 * The waits of a stop, at most: with a server that answers, the services drain their in-flight
 * work (about 9 s in all at worst); without one, about 4 s more after the probe.
 */
const STOP_BUDGET = {
  answering: { servicesMs: 5_000, drainMs: 2_000, serverGraceMs: 5_000 },
  unanswered: { servicesMs: 1_000, drainMs: 1_000, serverGraceMs: 2_000 },
} as const;

/** Resolves true when `work` succeeds within `ms`; false when it fails or the time is up first. */
async function succeedsWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let ok = false;
  const settled = await within(
    work.then(() => {
      ok = true;
    }),
    ms,
  );
  return settled && ok;
}

/**
 * The port of the health server: the configured one, or, when the default port (not one set with
 * HEALTH_PORT) is taken, say by a second `orchestra up` on the machine, any free one.
 */
async function healthPort(settings: { port: number; host?: string; explicit: boolean }): Promise<number> {
  if (settings.explicit || (await isPortFree(settings.port, settings.host))) return settings.port;
  return 0;
}
