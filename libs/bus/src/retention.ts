import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  StorageType,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { nanos } from '@nats-io/transport-node';
import { Buckets, type Env, type EnvVariable, readEnvironment } from '@orchestra/contracts';
import { z } from 'zod';
import { PAYLOADS_BUCKET, PAYLOADS_STREAM } from './claim.js';
import {
  type ProvisionAction,
  type ProvisionOptions,
  type ProvisionResult,
  provisionStreams,
} from './provision.js';

/**
 * How long, and how much, Orchestra keeps (docs/reliability.md, "Retention"). Every limit is
 * applied by nats-server itself: the services never delete a record. An age of 0 and a size of
 * -1 mean no limit.
 */
export interface RetentionSettings {
  /** Events (`ORCHESTRA_EVENTS_MAX_AGE`, default 30 days; `ORCHESTRA_EVENTS_MAX_BYTES`, default unlimited). */
  eventsMaxAgeMs: number;
  eventsMaxBytes: number;
  /** execution_results (`ORCHESTRA_RESULTS_MAX_AGE`, default: the events' age; `ORCHESTRA_RESULTS_MAX_BYTES`). */
  resultsMaxAgeMs: number;
  resultsMaxBytes: number;
  /** Large values' stored copies (`ORCHESTRA_PAYLOADS_MAX_AGE`, default: the events' age; `ORCHESTRA_PAYLOADS_MAX_BYTES`). */
  payloadsMaxAgeMs: number;
  payloadsMaxBytes: number;
  /** Dead letters (`ORCHESTRA_DEAD_LETTERS_MAX_AGE`, default 30 days; `ORCHESTRA_DEAD_LETTERS_MAX_BYTES`). */
  deadLettersMaxAgeMs: number;
  deadLettersMaxBytes: number;
  /** Each work queue (commands, tasks, outcomes, timers): `ORCHESTRA_WORK_QUEUE_MAX_BYTES`, default unlimited. */
  workQueueMaxBytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RETENTION_MS = 30 * DAY_MS;

const DURATION_TEXT = /^(\d+)\s*(ms|s|m|h|d)?$/i;
const SIZE_TEXT = /^(-1|(\d+)\s*(b|kib|mib|gib|tib)?)$/i;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `90s`, `15m`, `12h`, `30d`, a number of milliseconds, or `0` (keep for ever). */
export function parseDuration(text: string, key: string): number {
  const match = DURATION_TEXT.exec(text.trim());
  if (!match) throw new Error(`${key} must be a duration such as 90s, 15m, 12h, 30d or 0, got ${text}`);
  return Number(match[1]) * (DURATION_UNITS[(match[2] ?? 'ms').toLowerCase()] ?? 1);
}

/** `512MiB`, `10GiB`, a number of bytes, or `-1` (no limit). */
export function parseSize(text: string, key: string): number {
  if (text.trim() === '-1') return -1;
  const match = /^(\d+)\s*(b|kib|mib|gib|tib)?$/i.exec(text.trim());
  if (!match) throw new Error(`${key} must be a size such as 512MiB, 10GiB or -1, got ${text}`);
  return Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1);
}

/** A variable whose text `pattern` must match; unset: undefined, whose meaning `shown` says. */
function textVariable(
  description: string,
  pattern: RegExp,
  form: string,
  shown: string,
): EnvVariable<string | undefined> {
  return {
    description,
    default: shown,
    schema: z.preprocess(
      (value) => (typeof value === 'string' ? value.trim() || undefined : value),
      z
        .string()
        .refine((text) => pattern.test(text), {
          error: (issue) => `must be ${form}, got "${String(issue.input)}"`,
        })
        .optional(),
    ) as unknown as z.ZodType<string | undefined>,
  };
}
const age = (what: string, shown: string) =>
  textVariable(
    `how long ${what} are kept (90s, 15m, 12h, 30d; 0: for ever)`,
    DURATION_TEXT,
    'a duration such as 12h or 30d',
    shown,
  );
const size = (what: string) =>
  textVariable(
    `how many bytes of ${what} are kept (512MiB, 10GiB; -1: no limit)`,
    SIZE_TEXT,
    'a size such as 10GiB or -1',
    '-1',
  );

/** Retention of everything Orchestra stores (docs/reliability.md, "Retention"). */
export const RETENTION_ENVIRONMENT = {
  ORCHESTRA_EVENTS_MAX_AGE: age('execution events', '30d'),
  ORCHESTRA_EVENTS_MAX_BYTES: size('execution events'),
  ORCHESTRA_RESULTS_MAX_AGE: age('execution_results', "the events' age"),
  ORCHESTRA_RESULTS_MAX_BYTES: size('execution_results'),
  ORCHESTRA_PAYLOADS_MAX_AGE: age('large values in the object store', "the events' age"),
  ORCHESTRA_PAYLOADS_MAX_BYTES: size('large values in the object store'),
  ORCHESTRA_DEAD_LETTERS_MAX_AGE: age('dead letters', '30d'),
  ORCHESTRA_DEAD_LETTERS_MAX_BYTES: size('dead letters'),
  ORCHESTRA_WORK_QUEUE_MAX_BYTES: size('each work queue (a full queue refuses new messages)'),
} as const;

export function retentionFromEnv(env: Env = process.env): RetentionSettings {
  const values = readEnvironment(RETENTION_ENVIRONMENT, env);
  const ageOf = (key: keyof typeof RETENTION_ENVIRONMENT, fallback: number) => {
    const text = values[key];
    return text === undefined ? fallback : parseDuration(text, key);
  };
  const sizeOf = (key: keyof typeof RETENTION_ENVIRONMENT) => {
    const text = values[key];
    return text === undefined ? -1 : parseSize(text, key);
  };
  const eventsMaxAgeMs = ageOf('ORCHESTRA_EVENTS_MAX_AGE', DEFAULT_RETENTION_MS);
  return {
    eventsMaxAgeMs,
    eventsMaxBytes: sizeOf('ORCHESTRA_EVENTS_MAX_BYTES'),
    resultsMaxAgeMs: ageOf('ORCHESTRA_RESULTS_MAX_AGE', eventsMaxAgeMs),
    resultsMaxBytes: sizeOf('ORCHESTRA_RESULTS_MAX_BYTES'),
    payloadsMaxAgeMs: ageOf('ORCHESTRA_PAYLOADS_MAX_AGE', eventsMaxAgeMs),
    payloadsMaxBytes: sizeOf('ORCHESTRA_PAYLOADS_MAX_BYTES'),
    deadLettersMaxAgeMs: ageOf('ORCHESTRA_DEAD_LETTERS_MAX_AGE', DEFAULT_RETENTION_MS),
    deadLettersMaxBytes: sizeOf('ORCHESTRA_DEAD_LETTERS_MAX_BYTES'),
    workQueueMaxBytes: sizeOf('ORCHESTRA_WORK_QUEUE_MAX_BYTES'),
  };
}

export interface ProvisionEverythingOptions extends ProvisionOptions {
  retention?: Partial<RetentionSettings>;
}

/**
 * Creates or updates every stream, the results bucket and the payloads object store, with their
 * replicas and retention. Idempotent; `orchestra provision` and `orchestra up` run it.
 */
export async function provisionEverything(
  jsm: JetStreamManager,
  options: ProvisionEverythingOptions = {},
): Promise<ProvisionResult[]> {
  const replicas = options.replicas ?? 1;
  const retention = options.retention ?? {};
  const results = await provisionStreams(jsm, {
    ...options,
    ...(retention.eventsMaxAgeMs === undefined ? {} : { eventsMaxAgeMs: retention.eventsMaxAgeMs }),
    ...(retention.eventsMaxBytes === undefined ? {} : { eventsMaxBytes: retention.eventsMaxBytes }),
    ...(retention.deadLettersMaxAgeMs === undefined
      ? {}
      : { deadLettersMaxAgeMs: retention.deadLettersMaxAgeMs }),
    ...(retention.deadLettersMaxBytes === undefined
      ? {}
      : { deadLettersMaxBytes: retention.deadLettersMaxBytes }),
    ...(retention.workQueueMaxBytes === undefined ? {} : { workQueueMaxBytes: retention.workQueueMaxBytes }),
  });
  const js = jsm.jetstream();
  const limits = (maxAgeMs: number | undefined, maxBytes: number | undefined) => ({
    replicas,
    storage: StorageType.File,
    ttl: maxAgeMs ?? 0,
    max_bytes: maxBytes ?? -1,
  });
  const results_ = limits(retention.resultsMaxAgeMs, retention.resultsMaxBytes);
  results.push({
    stream: `KV_${Buckets.results}`,
    action: await ensureBucket(jsm, `KV_${Buckets.results}`, results_, () =>
      new Kvm(js).create(Buckets.results, {
        ...results_,
        history: 1,
        description: 'Orchestra execution_results, keyed by execution id',
      }),
    ),
  });
  const payloads = limits(retention.payloadsMaxAgeMs, retention.payloadsMaxBytes);
  results.push({
    stream: PAYLOADS_STREAM,
    action: await ensureBucket(jsm, PAYLOADS_STREAM, payloads, () =>
      new Objm(js).create(PAYLOADS_BUCKET, {
        ...payloads,
        ttl: nanos(payloads.ttl),
        description: 'Orchestra large values (claim checks: plans, outputs, results above one message)',
      }),
    ),
  });
  return results;
}

interface BucketLimits {
  replicas: number;
  /** Milliseconds; 0 keeps for ever. */
  ttl: number;
  max_bytes: number;
}

/**
 * Creates a bucket, or sets its replicas, age and size when they differ: the buckets' own
 * `create` leaves an existing bucket's settings as they are.
 */
async function ensureBucket(
  jsm: JetStreamManager,
  stream: string,
  limits: BucketLimits,
  create: () => Promise<unknown>,
): Promise<ProvisionAction> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(stream);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    await create();
    return 'created';
  }
  const wanted = { num_replicas: limits.replicas, max_age: nanos(limits.ttl), max_bytes: limits.max_bytes };
  const config = info.config;
  if (
    config.num_replicas === wanted.num_replicas &&
    config.max_age === wanted.max_age &&
    config.max_bytes === wanted.max_bytes
  )
    return 'unchanged';
  await jsm.streams.update(stream, { ...config, ...wanted });
  return 'updated';
}
