import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { IllegalStateError, Streams, Subjects } from '@orchestra/contracts';

export interface ProvisionOptions {
  /** Replicas of every stream (1 on a single server, 3 on a cluster). Default 1. */
  replicas?: number;
  /** Events stream retention: 0 keeps events forever (default). */
  eventsMaxAgeMs?: number;
  /** Events stream size limit in bytes; -1 is unlimited (default). */
  eventsMaxBytes?: number;
  /** Events dedup window: short, the server indexes every msg id in it. Default 30 s. */
  eventsDuplicateWindowMs?: number;
  /** Dedup window of the work queues (commands, tasks, outcomes, timers). Default 2 min. */
  duplicateWindowMs?: number;
  /** How long dead letters are kept. Default 30 days. */
  deadLettersMaxAgeMs?: number;
  /** Dead letters' size limit in bytes (the oldest go first); -1 is unlimited (default). */
  deadLettersMaxBytes?: number;
  /**
   * Size limit of each work queue in bytes; -1 is unlimited (default). A full queue refuses new
   * messages (the publisher sees the error and retries) rather than dropping stored ones.
   */
  workQueueMaxBytes?: number;
}

export type ProvisionAction = 'created' | 'updated' | 'unchanged';
export interface ProvisionResult {
  stream: string;
  action: ProvisionAction;
}

type DesiredStream = Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'num_replicas'
  | 'duplicate_window'
  | 'max_age'
  | 'max_bytes'
  | 'discard'
  | 'allow_direct'
  | 'description'
>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The configuration of every Orchestra stream, derived from the options. */
export function streamConfigs(options: ProvisionOptions = {}): DesiredStream[] {
  const replicas = options.replicas ?? 1;
  const dupWindow = nanos(options.duplicateWindowMs ?? 2 * MINUTE);
  const base = {
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
    max_bytes: -1,
    max_age: 0,
    allow_direct: false,
  };
  const workQueue = (name: string, subjects: string[], description: string): DesiredStream => ({
    ...base,
    name,
    subjects,
    discard: DiscardPolicy.New,
    max_bytes: options.workQueueMaxBytes ?? -1,
    retention: RetentionPolicy.Workqueue,
    duplicate_window: dupWindow,
    description,
  });
  return [
    // Only the subjects someone consumes: a command on `orchestra.cmd.typo` is refused at publish
    // time rather than acknowledged as stored and then never run.
    workQueue(
      Streams.commands,
      [Subjects.executeCommand, Subjects.cancelCommand, Subjects.rerunCommand, Subjects.repairCommand],
      'Orchestra commands (execute, cancel, rerun, repair)',
    ),
    {
      ...base,
      name: Streams.events,
      subjects: [Subjects.allEvents],
      retention: RetentionPolicy.Limits,
      // The server refuses a duplicate window longer than max_age.
      duplicate_window: nanos(capped(options.eventsDuplicateWindowMs ?? 30_000, options.eventsMaxAgeMs ?? 0)),
      max_age: nanos(options.eventsMaxAgeMs ?? 0),
      max_bytes: options.eventsMaxBytes ?? -1,
      allow_direct: true,
      description: 'Orchestra execution events, one subject per execution',
    },
    workQueue(Streams.tasks, [Subjects.allTasks], 'Orchestra task commands, one subject per plugin'),
    workQueue(Streams.outcomes, [Subjects.allOutcomes], 'Orchestra task outcomes from the workers'),
    workQueue(Streams.timers, [Subjects.allTimers], 'Orchestra durable timers (deadlines, retry backoffs)'),
    {
      ...base,
      name: Streams.deadLetters,
      subjects: [Subjects.allDeadLetters],
      retention: RetentionPolicy.Limits,
      duplicate_window: dupWindow,
      max_age: nanos(options.deadLettersMaxAgeMs ?? 30 * DAY),
      max_bytes: options.deadLettersMaxBytes ?? -1,
      description: 'Orchestra dead letters: messages that could not be processed',
    },
  ];
}

function capped(windowMs: number, maxAgeMs: number): number {
  return maxAgeMs > 0 ? Math.min(windowMs, maxAgeMs) : windowMs;
}

/** Creates the streams that are missing and updates the ones whose configuration differs. */
export async function provisionStreams(
  jsm: JetStreamManager,
  options: ProvisionOptions = {},
): Promise<ProvisionResult[]> {
  const results: ProvisionResult[] = [];
  for (const desired of streamConfigs(options)) {
    results.push({ stream: desired.name, action: await ensureStream(jsm, desired) });
  }
  return results;
}

/** Idempotent create-or-update of one stream; retention and storage cannot change in place. */
export async function ensureStream(jsm: JetStreamManager, desired: DesiredStream): Promise<ProvisionAction> {
  let existing = await streamInfo(jsm, desired.name);
  if (!existing) {
    try {
      await jsm.streams.add(desired);
      return 'created';
    } catch (err) {
      // Another replica created it first: fall through to the comparison.
      existing = await streamInfo(jsm, desired.name);
      if (!existing) throw err;
    }
  }
  const config = existing.config as unknown as Record<string, unknown>;
  for (const key of ['retention', 'storage'] as const) {
    if (config[key] !== desired[key]) {
      throw new IllegalStateError(
        `stream ${desired.name} has ${key} ${String(config[key])}, expected ${desired[key]}: ` +
          'it cannot be changed in place; migrate or delete the stream',
      );
    }
  }
  if (differs(config, desired)) {
    const { name, retention: _r, storage: _s, ...update } = desired;
    await jsm.streams.update(name, update);
    return 'updated';
  }
  return 'unchanged';
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  }
}

export type DurableConsumerConfig = Partial<ConsumerConfig> & { durable_name: string };

/**
 * Idempotent create-or-update of a durable pull consumer (explicit ack, deliver all by default).
 * Fields the server cannot change in place make the update fail with the server's error.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: DurableConsumerConfig,
): Promise<ConsumerInfo> {
  const desired: DurableConsumerConfig = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...config,
  };
  const existing = await consumerInfo(jsm, stream, desired.durable_name);
  if (!existing) {
    try {
      return await jsm.consumers.add(stream, desired);
    } catch (err) {
      const raced = await consumerInfo(jsm, stream, desired.durable_name);
      if (!raced) throw err;
      return ensureConsumer(jsm, stream, config);
    }
  }
  if (!differs(existing.config as unknown as Record<string, unknown>, desired)) return existing;
  const { durable_name, ack_policy: _a, deliver_policy: _d, ...update } = desired;
  return jsm.consumers.update(stream, durable_name, update);
}

async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw err;
  }
}

/** True when a field we ask for has another value on the server (fields we leave out are ignored). */
function differs(actual: Record<string, unknown>, desired: object): boolean {
  return Object.entries(desired).some(([key, value]) => {
    if (value === undefined) return false;
    return JSON.stringify(normalize(actual[key])) !== JSON.stringify(normalize(value));
  });
}

function normalize(value: unknown): unknown {
  // The server omits empty strings and false booleans from its configs.
  if (value === undefined || value === '' || value === false) return null;
  return value;
}
