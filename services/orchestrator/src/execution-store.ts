import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import {
  appendEventRecords,
  type BusLogger,
  type DecodedRecord,
  type RecordSigner,
  readEvents,
  readRecordAt,
} from '@orchestra/bus';
import type { ExecutionEvent } from '@orchestra/contracts';
import { type ExecutionState, fold, initialState } from '@orchestra/execution';
import { LRUCache } from 'lru-cache';

export interface LoadedExecution {
  state: ExecutionState;
  /** Stream sequence of the execution's last event (0: none). */
  seq: number;
  /** Hash of the execution's last record, which the next one links to (docs/audit.md). */
  head: string;
}

/**
 * The orchestrator's view of executions: folded state per execution, cached with the sequence
 * it was folded to. The cache is only an optimisation: every append states the sequence it
 * builds on, so a stale entry makes the append fail and the caller reloads.
 */
export class ExecutionStore {
  /** Least recently written out first; reading (peek) does not count as a use. */
  private readonly cache: LRUCache<string, LoadedExecution>;
  /** Appends of this process still waiting for their PubAck, per execution. */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: BusLogger,
    private readonly options: { capacity?: number; maxRecordBytes?: number; signer?: RecordSigner } = {},
  ) {
    this.cache = new LRUCache({ max: options.capacity ?? 10_000 });
  }

  async load(executionId: string): Promise<LoadedExecution> {
    return this.cache.peek(executionId) ?? this.refresh(executionId);
  }

  /** The stored record at `seq` of the events stream, checked; undefined when it is gone. */
  record(seq: number): Promise<DecodedRecord | undefined> {
    return readRecordAt(this.jsm, seq);
  }

  /** The cached fold, if any: no I/O. */
  cached(executionId: string): LoadedExecution | undefined {
    return this.cache.peek(executionId);
  }

  /**
   * A fold that includes at least the record at stream sequence `seq`. The outbox asks for the
   * records this process has just appended, often before their PubAck is back: waiting for that
   * append is cheaper than reading the log again.
   */
  async atLeast(executionId: string, seq: number): Promise<LoadedExecution> {
    const cached = this.cache.peek(executionId);
    if (cached && cached.seq >= seq) return cached;
    if (this.appending.has(executionId)) {
      await this.settled(executionId);
      const after = this.cache.peek(executionId);
      if (after && after.seq >= seq) return after;
    }
    return this.refresh(executionId);
  }

  /** Folds whatever was appended after the cached sequence (everything when nothing is cached). */
  async refresh(executionId: string): Promise<LoadedExecution> {
    const cached = this.cache.peek(executionId);
    const read = await readEvents(this.jsm, executionId, { fromSeq: (cached?.seq ?? 0) + 1 });
    for (const invalid of read.invalid) {
      this.logger.error(
        { execution_id: executionId, seq: invalid.seq, issues: invalid.issues },
        invalid.reason,
      );
    }
    if (cached && read.events.length === 0) return cached;
    const state = fold(
      read.events.map((stored) => stored.event),
      cached?.state ?? initialState(),
    );
    const loaded = { state, seq: Math.max(read.lastSeq, cached?.seq ?? 0), head: read.head };
    // An unknown execution is not cached: lookups of made-up ids must not evict real ones.
    return state.status === 'new' ? loaded : this.remember(executionId, loaded);
  }

  /**
   * Resolves once the append of the execution in flight now (if any) has settled: every record
   * already stored by this process has then been through `onStored`.
   */
  async settled(executionId: string): Promise<void> {
    await this.appending.get(executionId)?.catch(() => undefined);
  }

  /**
   * Appends a decision's events and caches the state after them. `onStored` runs as soon as the
   * append is acknowledged, before anyone waiting in `settled` or `atLeast` resumes.
   */
  async append(
    executionId: string,
    events: readonly ExecutionEvent[],
    after: { seq: number; head: string },
    stateAfter: ExecutionState,
    onStored?: (seq: number) => void,
  ): Promise<number> {
    const options = {
      ...(this.options.maxRecordBytes === undefined ? {} : { maxRecordBytes: this.options.maxRecordBytes }),
      chain: { prev: after.head, signer: this.options.signer },
    };
    const appended = (async () => {
      try {
        const { seq, head } = await appendEventRecords(this.js, executionId, events, after.seq, options);
        this.remember(executionId, { state: stateAfter, seq, head });
        onStored?.(seq);
        return seq;
      } catch (error) {
        this.cache.delete(executionId);
        throw error;
      }
    })();
    this.appending.set(executionId, appended);
    try {
      return await appended;
    } finally {
      if (this.appending.get(executionId) === appended) this.appending.delete(executionId);
    }
  }

  private remember(executionId: string, loaded: LoadedExecution): LoadedExecution {
    const cached = this.cache.peek(executionId);
    // A concurrent append may have cached a later fold than this read saw: keep the later one.
    if (cached && cached.seq > loaded.seq) return cached;
    this.cache.set(executionId, loaded);
    return loaded;
  }
}
