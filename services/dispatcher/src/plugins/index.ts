export { agentPlugin } from './agent/agent-plugin.js';
export { PROMPT_PLACEHOLDERS, renderPrompt, SEED_PROMPT } from './agent/prompt.js';
export { PluginConfig, PluginsFile } from './config.js';
export { HttpPluginHeaders, httpPlugin, signatureOf } from './http-plugin.js';
export {
  type LoadedPlugins,
  loadPluginsFile,
  loadPluginsOrThrow,
  PLUGINS_FILE_VARIABLE,
  type PluginsLoad,
  pluginsFromText,
} from './load.js';
export { UpstreamCodes, UpstreamError } from './upstream.js';
