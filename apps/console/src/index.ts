export { DEFAULT_ASSETS_DIR } from './assets.js';
export { ExecutionIndex } from './index/execution-index.js';
export type * from './model/api-types.js';
export {
  type ConsoleOptions,
  DEFAULT_CONSOLE_HOST,
  DEFAULT_CONSOLE_PORT,
  type RunningConsole,
  startConsole,
} from './server.js';
