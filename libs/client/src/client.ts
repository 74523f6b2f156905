import { isDeepStrictEqual } from 'node:util';
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type AuditRecord,
  type ChainVerdict,
  type ConnectNatsOptions,
  connectNats,
  DeadLetterRecord,
  decode,
  decodeRecord,
  decodeStoredRecord,
  encode,
  publishJson,
  type RecordVerifier,
  readAuditRecords,
  readEvents,
  readResultsValue,
  resolveClaim,
  resultsValueLimit,
  type StoredEvent,
  verifyChain,
} from '@orchestra/bus';
import {
  Buckets,
  type DeadLetterSource,
  type ExecutionContext,
  type ExecutionEvent,
  type ExecutionResults,
  type Issue,
  NotFoundError,
  newExecutionId,
  OrchestraError,
  type Plan,
  Streams,
  Subjects,
  ValidationError,
  validatePlan,
} from '@orchestra/contracts';
import { fitResults, fold, toExecutionContext, toExecutionResults } from '@orchestra/execution';

export interface ReplayReport {
  execution_id: string;
  events: StoredEvent[];
  recomputed: ExecutionResults;
  stored: ExecutionResults | null;
  /** The stored results equal the ones recomputed from the log with the same fold. */
  matches: boolean;
  /** The tamper-evident chain of the records (docs/audit.md), signatures checked against `trusted`. */
  verified: ChainVerdict;
}

/**
 * A typed client for Orchestra on the bus, used by the CLI and by users' code. Commands go
 * straight to the commands stream (the publish ack means "stored, will run", with or without a
 * running orchestrator); reads fold the event log locally with the same code as the services.
 */
export class OrchestraClient {
  private kvPromise?: Promise<KV>;

  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  static async connect(options: ConnectNatsOptions = {}): Promise<OrchestraClient> {
    const nc = await connectNats({ name: 'orchestra-client', ...options });
    return OrchestraClient.using(nc);
  }

  static async using(nc: NatsConnection): Promise<OrchestraClient> {
    return new OrchestraClient(nc, jetstream(nc), await jetstreamManager(nc));
  }

  /** Validates the plan here (a clear error before anything is stored), then stores the command. */
  async execute(plan: unknown, executionId?: string): Promise<{ execution_id: string; duplicate: boolean }> {
    const validation = validatePlan(plan);
    if (!validation.ok) {
      throw new ValidationError(`invalid plan: ${validation.issues.length} problem(s)`, validation.issues);
    }
    return this.submit(validation.plan, executionId);
  }

  /** Stores an ExecutePlan command as is (the orchestrator validates it and may reject it). */
  async submit(
    plan: Plan | unknown,
    executionId?: string,
  ): Promise<{ execution_id: string; duplicate: boolean }> {
    const execution_id = executionId ?? newExecutionId();
    const ack = await publishJson(
      this.js,
      Subjects.executeCommand,
      { type: 'ExecutePlan', plan, execution_id },
      { msgID: execution_id },
    );
    return { execution_id, duplicate: ack.duplicate };
  }

  async cancel(execution_id: string, reason?: string): Promise<void> {
    await publishJson(this.js, Subjects.cancelCommand, {
      type: 'CancelExecution',
      execution_id,
      ...(reason ? { reason } : {}),
    });
  }

  async events(execution_id: string): Promise<StoredEvent[]> {
    const read = await readEvents(this.jsm, execution_id);
    return read.events;
  }

  /**
   * The first event of an execution (ExecutionStarted or ExecutionRejected), waiting up to
   * `waitMs` for it when there is none yet (a command still waiting for an orchestrator).
   */
  async firstEvent(execution_id: string, waitMs = 0): Promise<ExecutionEvent | undefined> {
    const stored = await this.jsm.streams.getMessage(Streams.events, {
      last_by_subj: Subjects.events(execution_id),
    });
    if (!stored && waitMs <= 0) return undefined;
    for await (const { event } of this.watch(execution_id, {
      signal: AbortSignal.timeout(Math.max(waitMs, 1_000)),
    })) {
      return event;
    }
    return undefined;
  }

  /** The seed's execution context, folded from the log here. */
  async status(execution_id: string): Promise<ExecutionContext> {
    const events = await this.events(execution_id);
    if (events.length === 0) throw new NotFoundError(`no execution ${execution_id}`);
    return toExecutionContext(fold(events.map((stored) => stored.event)));
  }

  /** The stored `execution_results`, or null while the results service has not written any. */
  async results(execution_id: string): Promise<ExecutionResults | null> {
    const kv = await this.kv();
    const read = () => kv.get(execution_id);
    return (await readResultsValue(this.js, await read(), read)) as ExecutionResults | null;
  }

  /**
   * Waits for final results by watching the results bucket. A watch that breaks (a server
   * restart, a reconnect) is opened again until the deadline (0: no deadline).
   */
  async waitForResults(execution_id: string, timeoutMs = 0): Promise<ExecutionResults> {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    while (Date.now() < deadline) {
      try {
        const results = await this.watchUntilFinal(execution_id, deadline);
        if (results) return results;
      } catch {
        // the watch broke: the connection reconnects by itself, so try again shortly
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new OrchestraError('TIMEOUT', `no final results for ${execution_id} within ${timeoutMs} ms`);
  }

  private async watchUntilFinal(
    execution_id: string,
    deadline: number,
  ): Promise<ExecutionResults | undefined> {
    const kv = await this.kv();
    const watcher = await kv.watch({ key: execution_id });
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => watcher.stop(), deadline - Date.now())
      : undefined;
    try {
      for await (const entry of watcher) {
        if (entry.operation !== 'PUT') continue;
        const results = (await readResultsValue(this.js, entry, () =>
          kv.get(execution_id),
        )) as ExecutionResults;
        if (isFinal(results.status)) return results;
      }
      return undefined;
    } finally {
      clearTimeout(timer);
      watcher.stop();
    }
  }

  /**
   * The log folded again and compared with the stored results, and its chain verified: the
   * records are read once, as stored, for both.
   */
  async replay(
    execution_id: string,
    options: { trusted?: readonly RecordVerifier[] } = {},
  ): Promise<ReplayReport> {
    const records = await this.auditRecords(execution_id);
    const subject = Subjects.events(execution_id);
    const utf8 = new TextEncoder();
    const events = records.flatMap(({ seq, payload }) => {
      const decoded = decodeRecord(subject, utf8.encode(payload));
      return decoded.ok ? decoded.events.map((event) => ({ seq, event })) : [];
    });
    if (events.length === 0) throw new NotFoundError(`no execution ${execution_id}`);
    // The same fitting the results service applies to a value over ORCHESTRA_MAX_VALUE_BYTES.
    const limit = resultsValueLimit(this.nc);
    const recomputed = fitResults(
      toExecutionResults(fold(events.map((stored) => stored.event)), execution_id),
      limit,
    );
    const stored = await this.results(execution_id);
    return {
      execution_id,
      events,
      recomputed,
      stored,
      matches: isDeepStrictEqual(stored, recomputed),
      verified: verifyChain(execution_id, records, options.trusted ?? []),
    };
  }

  /** Every stored record of the execution with its audit headers, in order (docs/audit.md). */
  auditRecords(execution_id: string): Promise<AuditRecord[]> {
    return readAuditRecords(this.jsm, execution_id);
  }

  /** The execution's chain verified against the trusted keys (none: the hashes only). */
  async verify(execution_id: string, trusted: readonly RecordVerifier[] = []): Promise<ChainVerdict> {
    const records = await this.auditRecords(execution_id);
    if (records.length === 0) throw new NotFoundError(noLog(execution_id));
    return verifyChain(execution_id, records, trusted);
  }

  async list(limit = 100): Promise<ExecutionResults[]> {
    const kv = await this.kv();
    const all: ExecutionResults[] = [];
    for await (const key of await kv.keys()) {
      const results = (await readResultsValue(this.js, await kv.get(key), () => kv.get(key)).catch(
        () => null,
      )) as ExecutionResults | null;
      if (results) all.push(results);
    }
    all.sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
    return all.slice(0, limit);
  }

  /**
   * Every event of one execution, history first and then live, with no gap: a JetStream ordered
   * consumer on the execution's subject (events of one record share its `seq`). Ends after ExecutionFinished or ExecutionRejected.
   */
  async *watch(execution_id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredEvent> {
    const consumer = await this.js.consumers.get(Streams.events, {
      filter_subjects: Subjects.events(execution_id),
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume();
    const stop = () => messages.stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const msg of messages) {
        // A stored message is a record: the events of one decision. An invalid one is skipped
        // here (readEvents reports it with its reasons).
        const decoded = await decodeStoredRecord(this.js, msg.subject, msg.data);
        if (!decoded.ok) continue;
        for (const event of decoded.events) {
          yield { seq: msg.seq, event };
          if (event.type === 'ExecutionFinished' || event.type === 'ExecutionRejected') return;
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      messages.stop();
    }
  }

  /**
   * The most recent dead letters (messages that were refused or exhausted their deliveries),
   * oldest first, each with its reason. `source` narrows them to one stream (`tasks`, ...).
   */
  async deadLetters(
    options: { limit?: number; source?: DeadLetterSource } = {},
  ): Promise<DeadLetterRecord[]> {
    const limit = options.limit ?? 50;
    const info = await this.jsm.streams.info(Streams.deadLetters);
    if (info.state.messages === 0) return [];
    const consumer = await this.js.consumers.get(Streams.deadLetters, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: options.source
        ? info.state.first_seq
        : Math.max(info.state.first_seq, info.state.last_seq - limit + 1),
      ...(options.source ? { filter_subjects: Subjects.deadLetters(options.source) } : {}),
    });
    const records: DeadLetterRecord[] = [];
    const messages = await consumer.fetch({ max_messages: 10_000, expires: 2_000 });
    for await (const msg of messages) {
      const record = DeadLetterRecord.safeParse(msg.json());
      if (record.success) records.push(record.data);
      if (msg.info.pending === 0) break;
    }
    return records.slice(-limit);
  }

  /** A request to the `orchestra.api.*` endpoints, for clients that prefer request/reply. */
  async request<T>(endpoint: Parameters<typeof Subjects.api>[0], body: unknown, timeout = 5_000): Promise<T> {
    const answer = await this.nc.request(Subjects.api(endpoint), encode(body), { timeout });
    // A reply larger than one message is a reference to its stored copy (see @orchestra/bus claim.ts).
    const reply = decode(await resolveClaim(this.js, answer.data)) as
      | { error: { code: string; message: string; issues?: Issue[] } }
      | T;
    if (reply && typeof reply === 'object' && 'error' in reply) {
      const { code, message, issues } = reply.error;
      // A refusal keeps its issues (each with its path), as the service gave them.
      if (code === 'VALIDATION') throw new ValidationError(message, issues ?? []);
      if (code === 'NOT_FOUND') throw new NotFoundError(message);
      throw new OrchestraError(code, message);
    }
    return reply as T;
  }

  private kv(): Promise<KV> {
    this.kvPromise ??= new Kvm(this.js).open(Buckets.results);
    return this.kvPromise;
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

/** What a missing log means: never started, or its events are past the stream's retention. */
export function noLog(execution_id: string): string {
  return `no execution ${execution_id}: no events stored (never started, or past the events' retention)`;
}

export function isFinal(status: ExecutionResults['status']): boolean {
  return status !== 'pending' && status !== 'running';
}
