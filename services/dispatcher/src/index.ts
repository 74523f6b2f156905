export { builtinPlugin } from './builtin.js';
export { DISPATCHER_ENVIRONMENT, type DispatcherOptions, startDispatcher } from './main.js';
export { type Plugin, type PluginContext, PluginError, type PluginErrorOptions } from './plugin.js';
export {
  agentPlugin,
  httpPlugin,
  type LoadedPlugins,
  loadPluginsFile,
  PLUGINS_FILE_VARIABLE,
  pluginsFromText,
} from './plugins/index.js';
