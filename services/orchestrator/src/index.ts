export { type OrchestratorOptions, orchestratorSettings, startOrchestrator } from './main.js';
