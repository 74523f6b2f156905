export { isFinal, noLog, OrchestraClient, type ReplayReport } from './client.js';
