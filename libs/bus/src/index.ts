export {
  AuditHeaders,
  GENESIS,
  keyIdOf,
  type RecordSigner,
  type RecordVerifier,
  recordHash,
  signerFromKey,
  verifierFromKey,
} from './audit.js';
export {
  type AuditRecord,
  auditFieldsOf,
  type ChainProblem,
  type ChainVerdict,
  payloadText,
  verifyChain,
} from './audit-chain.js';
export * from './codec.js';
export * from './connection.js';
export * from './consumer.js';
export * from './dead-letters.js';
export * from './events.js';
export * from './exhausted-deliveries.js';
export { defaultNakDelay, handleMessage, type MessageDeps } from './handle-message.js';
export * from './kv.js';
export { findNatsServer, freePort, isPortFree } from './local-server.js';
export * from './logger.js';
export * from './nest-transport.js';
export * from './provision.js';
export { type PublishJsonOptions, publishJson, toHeaders } from './publish.js';
export * from './service.js';
export * from './subject-check.js';
export * from './task-consumer.js';
export * from './workers.js';
