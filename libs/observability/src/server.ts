import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { TerminusModule } from '@nestjs/terminus';
import 'reflect-metadata';
import { type Env, readEnvironment, envVariable as variable } from '@orchestra/contracts';
import {
  HEALTH_OPTIONS,
  HealthController,
  type HealthOptions,
  MetricsController,
} from './health.controller.js';
import { type Logger, NestPinoLogger } from './logger.js';
import { orchestraMetrics } from './metrics.js';

export const DEFAULT_HEALTH_PORT = 8080;

export interface HealthServerSettings {
  port: number;
  /** Undefined: every interface (a container's probes come from outside it). */
  host?: string;
  /** HEALTH_PORT was set: a port in use is then an error, not a warning. */
  explicit: boolean;
  maxEventLoopDelayMs: number;
}

/** The HEALTH_* variables of a process that serves health and metrics (README, "Configuration"). */
export const HEALTH_ENVIRONMENT = {
  HEALTH_PORT: variable.integer(
    'port of /health/live, /health/ready and /metrics; 0 turns the server off',
    { min: 0, max: 65_535 },
    DEFAULT_HEALTH_PORT,
  ),
  HEALTH_HOST: variable.text('interface the health server listens on (default: every interface)'),
  HEALTH_MAX_EVENT_LOOP_DELAY_MS: variable.integer(
    'event loop delay beyond which /health/live fails (ms)',
    { min: 1, max: 3_600_000, unit: 'ms' },
    5_000,
  ),
} as const;

/** The health server's settings from HEALTH_* (see HEALTH_ENVIRONMENT). Undefined: no server. */
export function healthServerSettings(env: Env): HealthServerSettings | undefined {
  const values = readEnvironment(HEALTH_ENVIRONMENT, env);
  if (values.HEALTH_PORT === 0) return undefined;
  return {
    port: values.HEALTH_PORT,
    ...(values.HEALTH_HOST ? { host: values.HEALTH_HOST } : {}),
    explicit: Boolean(env.HEALTH_PORT?.trim()),
    maxEventLoopDelayMs: values.HEALTH_MAX_EVENT_LOOP_DELAY_MS,
  };
}

@Module({})
class ObservabilityModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
    };
  }
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The process's HTTP server: `/health/live`, `/health/ready` and `/metrics`. When the default
 * port is taken (a second `orchestra up` on one machine) it is skipped with a warning; a port
 * set with HEALTH_PORT must be free.
 */
export async function startHealthServer(
  settings: HealthServerSettings,
  logger: Logger,
): Promise<HealthServer | undefined> {
  orchestraMetrics();
  const app: INestApplication = await NestFactory.create(
    ObservabilityModule.forRoot({ logger, maxEventLoopDelayMs: settings.maxEventLoopDelayMs }),
    new ExpressAdapter(),
    { logger: new NestPinoLogger(logger), abortOnError: false, forceCloseConnections: true },
  );
  try {
    if (settings.host) await app.listen(settings.port, settings.host);
    else await app.listen(settings.port);
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { code?: unknown }).code === 'EADDRINUSE' && !settings.explicit) {
      logger.warn(
        { port: settings.port },
        'health and metrics server not started: the port is in use (set HEALTH_PORT to choose another, 0 for none)',
      );
      return undefined;
    }
    throw error;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  logger.info({ port }, 'health and metrics on /health/live, /health/ready, /metrics');
  return { port, close: () => app.close() };
}
