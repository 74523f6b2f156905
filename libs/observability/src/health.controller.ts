import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { orchestraMetrics } from './metrics.js';
import { checkService, type WatchedService, watchedServices } from './services.js';

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
const LOOP_RESOLUTION_MS = 20;

export interface HealthOptions {
  logger: Logger;
  /** Live while the event loop's longest delay since the previous probe stays under this. */
  maxEventLoopDelayMs: number;
}

/**
 * `/health/live`: the process answers and its event loop is not stuck.
 * `/health/ready`: every service of the process has its NATS connection, JetStream and consumers.
 * Both answer 200 with terminus's JSON, or 503 with the failing parts.
 */
@Controller('health')
export class HealthController {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({
    resolution: LOOP_RESOLUTION_MS,
  });
  private lastReady: boolean | undefined;

  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {
    this.loopDelay.enable();
  }

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.eventLoop()]);
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  async ready(): Promise<HealthCheckResult> {
    const services = watchedServices();
    const keys = new Set<string>();
    const checks = services.map((service) => {
      // Two replicas of one service in a process (tests) get keys of their own.
      let key = service.name;
      for (let n = 2; keys.has(key); n++) key = `${service.name}-${n}`;
      keys.add(key);
      return () => this.serviceIndicator(key, service);
    });
    if (services.length === 0) {
      checks.push(async () => this.indicators.check('services').down({ message: 'no service is running' }));
    }
    try {
      const result = await this.health.check(checks);
      this.transition(true, result);
      return result;
    } catch (error) {
      this.transition(false, (error as { response?: unknown }).response);
      throw error;
    }
  }

  private async serviceIndicator(key: string, service: WatchedService): Promise<HealthIndicatorResult> {
    const { ready, name: _name, ...details } = await checkService(service);
    const session = this.indicators.check(key);
    return ready ? session.up(details) : session.down(details);
  }

  /** The histogram samples every LOOP_RESOLUTION_MS: a delay is what exceeds that. */
  private eventLoop(): HealthIndicatorResult {
    const excess = (ns: number) => Math.max(0, Math.round(ns / 1e6 - LOOP_RESOLUTION_MS));
    const maxMs = excess(this.loopDelay.max);
    const meanMs = Number.isNaN(this.loopDelay.mean) ? 0 : excess(this.loopDelay.mean);
    this.loopDelay.reset();
    const session = this.indicators.check('event_loop');
    const details = { max_delay_ms: maxMs, mean_delay_ms: meanMs };
    return maxMs > this.options.maxEventLoopDelayMs ? session.down(details) : session.up(details);
  }

  /** One log line per change of readiness, not one per probe. */
  private transition(ready: boolean, details: unknown): void {
    if (this.lastReady === ready) return;
    this.lastReady = ready;
    if (ready) this.options.logger.info({}, 'ready');
    else this.options.logger.warn({ health: details }, 'not ready');
  }
}

@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return orchestraMetrics().registry.metrics();
  }
}
