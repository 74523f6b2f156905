import type { AddressInfo } from 'node:net';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { TerminusModule } from '@nestjs/terminus';
import 'reflect-metadata';
import {
  HEALTH_OPTIONS,
  HealthController,
  type HealthOptions,
  MetricsController,
} from './health.controller.js';
import { type Logger, NestPinoLogger } from './logger.js';
import { orchestraMetrics } from './metrics.js';

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_HEALTH_PORT = 8080;

export interface HealthServerSettings {
  port: number;
  /** Undefined: every interface (a container's probes come from outside it). */
  host?: string;
  /** HEALTH_PORT was set: a port in use is then an error, not a warning. */
  explicit: boolean;
  maxEventLoopDelayMs: number;
}

/**
 * `HEALTH_PORT` (default 8080; 0 turns the server off), `HEALTH_HOST` (default every interface),
 * `HEALTH_MAX_EVENT_LOOP_DELAY_MS` (default 5000). Undefined: no server.
 */
export function healthServerSettings(env: Env): HealthServerSettings | undefined {
  const text = env.HEALTH_PORT?.trim() ?? '';
  const port = text === '' ? DEFAULT_HEALTH_PORT : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`HEALTH_PORT must be a port number (0 to turn the server off), got ${env.HEALTH_PORT}`);
  }
  if (port === 0) return undefined;
  const delayText = env.HEALTH_MAX_EVENT_LOOP_DELAY_MS?.trim() ?? '';
  const maxEventLoopDelayMs = delayText === '' ? 5_000 : Number(delayText);
  if (!Number.isFinite(maxEventLoopDelayMs) || maxEventLoopDelayMs <= 0) {
    throw new Error(
      `HEALTH_MAX_EVENT_LOOP_DELAY_MS must be a positive number, got ${env.HEALTH_MAX_EVENT_LOOP_DELAY_MS}`,
    );
  }
  const host = env.HEALTH_HOST?.trim();
  return { port, ...(host ? { host } : {}), explicit: text !== '', maxEventLoopDelayMs };
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
