import type { ExecutionChange, ExecutionPage, ExecutionSummary, Facets } from '../model/api-types.js';
import { type ListFilter, matches, NO_FILTER } from './summary.js';

interface Row {
  summary: ExecutionSummary;
  /** Sort key: the start time, or when the entry was first written for one not started yet. */
  key: number;
}

/** How many removals are remembered for clients that resume a change stream. */
const TOMBSTONES = 10_000;

/**
 * Every execution of the results bucket as a small row, newest first, kept current by a watch
 * of the bucket (see feed.ts). A page is a walk from a cursor over an array kept in order, so a
 * request never lists the bucket's keys: at 100,000 executions a filtered page costs one pass
 * over the rows in memory, an unfiltered one only the rows it returns.
 */
export class ExecutionIndex {
  private readonly rows = new Map<string, Row>();
  /** Ascending by (key, execution_id): the newest is last. */
  private order: Row[] = [];
  /** While the initial values load, rows are appended unsorted and sorted once at the end. */
  private loading = true;
  private readonly tombstones: Array<{ execution_id: string; revision: number }> = [];
  private readonly listeners = new Set<(change: ExecutionChange) => void>();
  /** Highest revision applied. */
  revision = 0;

  get size(): number {
    return this.rows.size;
  }

  put(summary: ExecutionSummary, firstWrittenAt: number): void {
    this.revision = Math.max(this.revision, summary.revision);
    const existing = this.rows.get(summary.execution_id);
    if (existing && existing.summary.revision > summary.revision) return;
    const key = summary.started_at ?? existing?.key ?? firstWrittenAt;
    if (existing && existing.key === key) {
      existing.summary = summary;
    } else {
      if (existing && !this.loading) this.order.splice(this.position(existing), 1);
      const row = existing ?? { summary, key };
      row.summary = summary;
      row.key = key;
      this.rows.set(summary.execution_id, row);
      if (this.loading) {
        if (!existing) this.order.push(row);
      } else this.order.splice(this.insertionPoint(key, summary.execution_id), 0, row);
    }
    this.emit(summary);
  }

  remove(execution_id: string, revision: number): void {
    this.revision = Math.max(this.revision, revision);
    const row = this.rows.get(execution_id);
    if (!row) return;
    this.rows.delete(execution_id);
    if (this.loading) this.order = this.order.filter((r) => r !== row);
    else this.order.splice(this.position(row), 1);
    this.tombstones.push({ execution_id, revision });
    if (this.tombstones.length > TOMBSTONES) this.tombstones.shift();
    this.emit({ execution_id, removed: true, revision });
  }

  /** The initial values are in: sort once, then keep the order on every change. */
  loaded(): void {
    if (!this.loading) return;
    this.loading = false;
    this.order.sort(compareRows);
  }

  get(execution_id: string): ExecutionSummary | undefined {
    return this.rows.get(execution_id)?.summary;
  }

  page(filter: ListFilter = NO_FILTER, limit = 50, before: string | null = null): ExecutionPage {
    const start = before === null ? this.order.length - 1 : this.cursorStart(before);
    const items: ExecutionSummary[] = [];
    let next: string | null = null;
    const unfiltered = filter === NO_FILTER || isEmpty(filter);
    let total = unfiltered ? this.order.length : 0;
    for (let i = unfiltered ? start : this.order.length - 1; i >= 0; i--) {
      const row = this.order[i] as Row;
      if (!unfiltered && !matches(row.summary, filter)) continue;
      if (!unfiltered) total += 1;
      if (i > start) continue;
      if (items.length < limit) items.push(row.summary);
      else if (next === null) {
        const last = items[items.length - 1] as ExecutionSummary;
        next = cursorOf(this.rows.get(last.execution_id) as Row);
        if (unfiltered) break;
      }
    }
    return { items, total, indexed: this.rows.size, revision: this.revision, next };
  }

  /** Rows changed, and rows removed, after `revision` (for a client resuming its change stream). */
  changesSince(revision: number): ExecutionChange[] {
    const changes: ExecutionChange[] = [];
    for (const row of this.rows.values()) if (row.summary.revision > revision) changes.push(row.summary);
    for (const tombstone of this.tombstones) {
      if (tombstone.revision > revision) changes.push({ ...tombstone, removed: true });
    }
    return changes.sort((a, b) => a.revision - b.revision);
  }

  facets(): Facets {
    const plans = new Set<string>();
    const plugins = new Set<string>();
    for (const { summary } of this.rows.values()) {
      if (summary.plan_id) plans.add(summary.plan_id);
      for (const plugin of summary.plugins) plugins.add(plugin);
    }
    return { plans: [...plans].sort(), plugins: [...plugins].sort() };
  }

  subscribe(listener: (change: ExecutionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: ExecutionChange): void {
    if (this.loading) return;
    for (const listener of this.listeners) listener(change);
  }

  private position(row: Row): number {
    const at = this.insertionPoint(row.key, row.summary.execution_id);
    // insertionPoint finds the first row not smaller: the row itself when it is in the order.
    if (this.order[at] === row) return at;
    const found = this.order.indexOf(row);
    if (found < 0) throw new Error(`index out of order at ${row.summary.execution_id}`);
    return found;
  }

  /** First position whose row is not smaller than (key, id). */
  private insertionPoint(key: number, id: string): number {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const row = this.order[mid] as Row;
      if (compare(row.key, row.summary.execution_id, key, id) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Position of the last row strictly older than the cursor's row. */
  private cursorStart(cursor: string): number {
    const parsed = parseCursor(cursor);
    if (!parsed) return -1;
    return this.insertionPoint(parsed.key, parsed.id) - 1;
  }
}

function compare(keyA: number, idA: string, keyB: number, idB: string): number {
  if (keyA !== keyB) return keyA - keyB;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

function compareRows(a: Row, b: Row): number {
  return compare(a.key, a.summary.execution_id, b.key, b.summary.execution_id);
}

function cursorOf(row: Row): string {
  return `${row.key}.${row.summary.execution_id}`;
}

const CURSOR = /^(-?\d{1,16})\.([A-Za-z0-9_-]{1,128})$/;

export function parseCursor(cursor: string): { key: number; id: string } | null {
  const match = CURSOR.exec(cursor);
  return match ? { key: Number(match[1]), id: match[2] as string } : null;
}

function isEmpty(filter: ListFilter): boolean {
  return filter.statuses.size === 0 && filter.plan === null && filter.plugin === null && filter.text === null;
}
