export * from './health.controller.js';
export * from './logger.js';
export * from './metrics.js';
export * from './server.js';
export * from './services.js';
export * from './tracing.js';
