export { MetricsController } from './health.controller.js';
export { NestPinoLogger } from './logger.js';
export { OrchestraMetrics, orchestraMetrics } from './metrics.js';
export { type HealthServer, healthServerSettings, startHealthServer } from './server.js';
export { watchService } from './services.js';
export {
  injectTraceContext,
  payloadAttributes,
  SpanKind,
  startTracing,
  traceLogFields,
  withMessageSpan,
} from './tracing.js';
