export * from './backoff.js';
export * from './decide.js';
export * from './effects.js';
export * from './evolve.js';
export * from './plan-index.js';
export * from './projections.js';
export * from './resolve.js';
export * from './state.js';
