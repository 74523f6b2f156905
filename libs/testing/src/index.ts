// @orchestra/testing: what tests (and the benchmark) share. A dev-only package: no service imports
// it and no image ships it (docs/architecture.md, "Packages").

export { findNatsServer, freePort } from '@orchestra/bus';
export { maxAttempts, planArbitrary } from './arbitraries.js';
export { type NatsClusterHandle, type NatsClusterNode, startNatsCluster } from './nats-cluster.js';
export {
  type NatsServerHandle,
  type NatsServerOptions,
  startNatsServer,
  useNatsServer,
} from './nats-server.js';
export { issuesOf, onePhase, onlyIssue, type PhaseInput, phase, plan, task } from './plans.js';
export { type Answer, outcomeOf, rerunSourceOf, Simulation, type World } from './simulation.js';
export { specFor, T0 } from './specification.js';
