// The public API of libs/bus: the JetStream plumbing the services, the CLI and the console share
// (connect, provision, append and read events, consume, the NestJS transport, dead letters,
// workers, the audit chain). See docs/architecture.md, "Packages".

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
  type ChainLink,
  type ChainProblem,
  type ChainVerdict,
  chainLinkOf,
  payloadText,
  verifyChain,
} from './audit-chain.js';
export { CACHE_ENVIRONMENT, cachedExecutionsFromEnv, DEFAULT_CACHED_EXECUTIONS } from './cache-size.js';
export {
  CLAIM_ENVIRONMENT,
  ClaimMissingError,
  ClaimUnreadableError,
  claimIfLarge,
  claimReference,
  configureClaims,
  maxValueBytes,
  PAYLOADS_BUCKET,
  PAYLOADS_STREAM,
  releaseClaim,
  resolveClaim,
} from './claim.js';
export { decode, decodeText, encode } from './codec.js';
export { type ConnectNatsOptions, connectNats, DEFAULT_NATS_URL, NATS_ENVIRONMENT } from './connection.js';
export type { HandlerResult, MessageContext, MessageVerifier } from './consumer.js';
export { DeadLetterRecord } from './dead-letters.js';
export {
  appendEventRecords,
  appendEvents,
  type DecodedRecord,
  decodeRecord,
  decodeStoredRecord,
  isWrongLastSequence,
  maxRecordBytes,
  misplacedEvent,
  readAuditRecords,
  readEvents,
  readRecordAt,
  type StoredEvent,
} from './events.js';
export { watchExhaustedDeliveries } from './exhausted-deliveries.js';
export { defaultNakDelay, handleMessage, type MessageDeps } from './handle-message.js';
export {
  ensureResultsBucket,
  openResultsBucket,
  readResultsValue,
  resultsValueLimit,
  writeResultsValue,
} from './kv.js';
export { findNatsServer, freePort, isPortFree, LOCAL_SERVER_ENVIRONMENT } from './local-server.js';
export { type BusLogger, errorFields, noopLogger } from './logger.js';
export {
  type ConsumerBinding,
  JetStreamContext,
  JetStreamServer,
  RethrowRpcErrors,
} from './nest-transport.js';
export { ensureConsumer, provisionStreams } from './provision.js';
export { isUnavailable, type PublishJsonOptions, publishJson, toHeaders } from './publish.js';
export {
  DEFAULT_RETENTION_MS,
  parseDuration,
  parseSize,
  provisionEverything,
  RETENTION_ENVIRONMENT,
  type RetentionSettings,
  retentionFromEnv,
} from './retention.js';
export {
  CLOCK,
  type Clock,
  closeConnection,
  LOGGER,
  NATS_CONNECTION,
  provisionAll,
  type RunningService,
  serviceHandle,
  systemClock,
} from './service.js';
export { onSubjectOf } from './subject-check.js';
export { TASK_CONSUMER, taskConsumerConfig } from './task-consumer.js';
export { within } from './within.js';
export { announceWorker, type LiveWorker, listWorkers, pluginsOfPlan, unservedPlugins } from './workers.js';
