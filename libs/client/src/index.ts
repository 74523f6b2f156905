export { isFinal, OrchestraClient, type ReplayReport } from './client.js';
