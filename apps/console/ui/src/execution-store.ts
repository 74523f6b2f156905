import type { ExecutionEvent } from '@orchestra/contracts';
import { ExecutionFold, type ExecutionState } from '@orchestra/execution';
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import type { StreamCaughtUp, StreamInvalid, StreamRecord } from '../../src/model/api-types';
import { applyToTimeline, emptyTimeline, type Timeline } from '../../src/model/timeline';

export interface HistoryEntry {
  seq: number;
  /** Position of the event inside its record (a record holds the events of one decision). */
  index: number;
  event: ExecutionEvent;
}

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * One execution in the page: its events as the server streams them (history, then live), folded
 * with libs/execution's own fold — the same one the services and `orchestra replay` use — and
 * with the timeline read model. Records are applied once per animation frame, and not drawn at
 * all until the history is complete, so a long history costs one render, not thousands.
 */
export class ExecutionStore {
  readonly history: HistoryEntry[] = [];
  readonly invalid: StreamInvalid[] = [];
  /** The fold as it grows; `state` is changed in place by each batch (`version` says when). */
  private readonly fold = new ExecutionFold();
  readonly timeline: Timeline = emptyTimeline();
  caughtUp = false;
  connection: Connection = 'connecting';
  lastSeq = 0;
  /** The last sequence stored when the stream opened. */
  caughtUpSeq = 0;
  /** Changes on every applied batch: what components re-render on. */
  version = 0;
  private pending: StreamRecord[] = [];
  private frame = 0;
  private source: EventSource | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(readonly executionId: string) {}

  /** The fold so far (changed in place as records arrive; read it when rendering). */
  get state(): ExecutionState {
    return this.fold.state;
  }

  open(): void {
    const source = new EventSource(`/api/executions/${encodeURIComponent(this.executionId)}/events`);
    this.source = source;
    source.addEventListener('open', () => this.setConnection('live'));
    source.addEventListener('error', () =>
      this.setConnection(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'),
    );
    source.addEventListener('record', (message) => {
      this.pending.push(JSON.parse((message as MessageEvent<string>).data) as StreamRecord);
      this.schedule();
    });
    source.addEventListener('invalid', (message) => {
      this.invalid.push(JSON.parse((message as MessageEvent<string>).data) as StreamInvalid);
      this.schedule();
    });
    source.addEventListener('caught-up', (message) => {
      const { seq } = JSON.parse((message as MessageEvent<string>).data) as StreamCaughtUp;
      this.caughtUp = true;
      this.caughtUpSeq = seq;
      this.schedule();
    });
  }

  close(): void {
    this.source?.close();
    cancelAnimationFrame(this.frame);
    this.listeners.clear();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  private setConnection(connection: Connection): void {
    if (this.connection === connection) return;
    this.connection = connection;
    this.bump();
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.applyPending();
    });
  }

  private applyPending(): void {
    const records = this.pending;
    this.pending = [];
    for (const record of records) {
      // A record at or before the last one applied was already applied (a resumed stream
      // starts after Last-Event-ID, so this only guards against a server that repeats one).
      if (record.seq <= this.lastSeq) continue;
      this.lastSeq = record.seq;
      record.events.forEach((event, index) => {
        this.fold.apply([event]);
        applyToTimeline(this.timeline, event);
        this.history.push({ seq: record.seq, index, event });
      });
    }
    if (this.caughtUp) this.bump();
  }

  private bump(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}

/** The store of one execution for as long as the page shows it; re-renders on every batch. */
export function useExecutionStore(executionId: string): ExecutionStore {
  const store = useMemo(() => new ExecutionStore(executionId), [executionId]);
  useEffect(() => {
    store.open();
    return () => store.close();
  }, [store]);
  useSyncExternalStore(store.subscribe, store.getVersion);
  return store;
}
