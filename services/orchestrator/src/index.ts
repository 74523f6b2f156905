export { orchestratorDurables } from './bindings.js';
export {
  ORCHESTRATOR_ENVIRONMENT,
  type OrchestratorOptions,
  orchestratorSettings,
  startOrchestrator,
} from './main.js';
