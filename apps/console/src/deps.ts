import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { BusLogger, RecordVerifier } from '@orchestra/bus';
import type { OrchestraClient } from '@orchestra/client';
import type { ExecutionIndex } from './index/execution-index.js';
import type { Capabilities } from './model/api-types.js';
import type { Guard } from './security.js';

export const CONSOLE_DEPS = Symbol('CONSOLE_DEPS');

/** What the controllers use, made once by startConsole. */
export interface ConsoleDeps {
  client: OrchestraClient;
  bus: { js: JetStreamClient; jsm: JetStreamManager };
  index: ExecutionIndex;
  /** Resolves once the index holds the whole bucket (rejects after a while if it never does). */
  indexReady(): Promise<void>;
  isIndexLoaded(): boolean;
  guard: Guard;
  logger: BusLogger;
  capabilities: Capabilities;
  /** How the equivalent CLI commands start (`npx orchestra`, with NATS_URL when it is not the default). */
  cli: string;
  /** Public keys whose signatures on the event records the replay check verifies. */
  trusted: RecordVerifier[];
  /** Plans offered on the submit page (undefined: the repository's examples/). */
  examplesDir: string | undefined;
}
