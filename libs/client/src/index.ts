export { isFinal, noLog, OrchestraClient, type ReplayReport } from './client.js';
export { comparePriorRun, type PriorRun, planDigest } from './plan-digest.js';
