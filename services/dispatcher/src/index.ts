export * from './builtin.js';
export * from './main.js';
export * from './plugin.js';
export * from './plugins/index.js';
