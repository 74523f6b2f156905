export { MetricsController } from './health.controller.js';
export { LOG_ENVIRONMENT, NestPinoLogger } from './logger.js';
export { OrchestraMetrics, orchestraMetrics } from './metrics.js';
export { HEALTH_ENVIRONMENT, type HealthServer, healthServerSettings, startHealthServer } from './server.js';
export { watchService } from './services.js';
export {
  injectTraceContext,
  payloadAttributes,
  SpanKind,
  startTracing,
  TRACING_ENVIRONMENT,
  traceLogFields,
  withMessageSpan,
} from './tracing.js';
