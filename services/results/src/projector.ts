import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import {
  type BusLogger,
  type ChainLink,
  encode,
  errorFields,
  GENESIS,
  isWrongLastSequence,
  readEvents,
  releaseClaim,
  writeResultsValue,
} from '@orchestra/bus';
import { type ExecutionEvent, ValidationError } from '@orchestra/contracts';
import { ExecutionFold, type ExecutionState, fitResults, toExecutionResults } from '@orchestra/execution';

/** A message waiting for a write of the results that includes its events. */
interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Message {
  events: readonly ExecutionEvent[];
  seq: number;
  /** The record's place in the execution's hash chain; undefined for a record without one. */
  link: ChainLink | undefined;
  waiter: Waiter;
}

/** One execution: its fold, the messages waiting for a write, the write in flight. */
interface Lane {
  /** The fold, owned by the lane and changed in place; undefined while the log is being read. */
  fold: ExecutionFold | undefined;
  /** Last sequence of the log read in full: every message up to it is in `fold`. */
  loadedSeq: number;
  /** Last sequence folded into `fold`. */
  seq: number;
  /**
   * Hash of the last record folded (GENESIS before the first): the next record must link to it,
   * or this lane missed one. Undefined when that record carried no hash.
   */
  head: string | undefined;
  /** Highest sequence included in a successful write. */
  writtenSeq: number;
  /** Revision of the bucket entry (0: none yet): read before the log, then each write's own. */
  revision: number;
  /** The stored copy this lane's last write refers to (a large value), released when replaced. */
  claimed: string | undefined;
  /** Messages that came while the log was being read, in delivery order. */
  queued: Message[];
  /** Messages folded into `fold`, waiting for a write that includes them. */
  waiting: Waiter[];
  writing: Promise<void> | undefined;
  conflicts: number;
  /** Replaced, evicted or failed: out of the cache, and writes nothing more. */
  retired: boolean;
}

const MAX_WRITE_CONFLICTS = 10;
/** How long a replaced results value's stored copy stays readable. */
const RELEASE_AFTER_MS = 30_000;
/** Writes of values at least this large are followed by a pause as long as they took... */
const PACE_FROM_BYTES = 256 * 1024;
/** ...of at most this long (ms). */
const MAX_PACE_MS = 200;

/**
 * Folds the event stream into `execution_results`, one KV entry per execution.
 *
 * Messages come in stream order, many at once. Each execution has a lane: its fold (kept and
 * changed in place, with the bucket revision it last wrote), and at most one write in flight.
 * Messages that come while a write is in flight are folded at once and go out together in the
 * next write, which starts as soon as the previous one is done. `apply` resolves only once a write
 * that includes the message has succeeded, so a message is acked only when its events are stored:
 * after a crash, the unacked messages come again and the new instance reads each execution's log
 * in full when it first sees it. An execution not in the cache is read from its subject while its
 * later messages wait in the lane's queue, so the fold never starts half-way; and a record that
 * does not link to the last one folded (its Orchestra-Prev header, docs/audit.md) makes the lane
 * read the log again, so the fold never skips one that went to another instance.
 */
export class ResultsProjector {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    private readonly logger: BusLogger,
    /** Largest results value kept whole (resultsValueLimit); larger ones go through the payloads bucket. */
    private readonly maxValueBytes: number,
    private readonly capacity = 10_000,
  ) {}

  /**
   * Folds the events of one stored message (stream sequence `seq`). Call it in delivery order;
   * it resolves once the results including them are written, and rejects with a
   * ValidationError when the events cannot belong to a started execution.
   */
  apply(events: readonly ExecutionEvent[], seq: number, link?: ChainLink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = events[0]?.execution_id;
      if (id === undefined)
        throw new ValidationError('a message without events', [{ path: '(root)', message: 'empty' }]);
      const stray = events.findIndex((event) => event.execution_id !== id);
      if (stray >= 0) {
        throw new ValidationError(`events of two executions in one message (${id} and another)`, [
          { path: `[${stray}].execution_id`, message: `not ${id}` },
        ]);
      }
      this.accept(id, { events, seq, link, waiter: { seq, resolve, reject } });
    });
  }

  private accept(id: string, message: Message): void {
    let lane = this.lanes.get(id);
    if (lane) {
      // Most recently used last: eviction takes the oldest idle lane.
      this.lanes.delete(id);
      this.lanes.set(id, lane);
    } else if (opensTheLog(message.events)) lane = this.openAtStart(id);
    else lane = this.open(id);
    if (lane.fold === undefined) lane.queued.push(message);
    else this.foldInto(id, lane, message);
  }

  /** A lane that reads the execution's log first (its later messages wait meanwhile). */
  private open(id: string, after?: Promise<void>): Lane {
    const lane = this.addLane(id, undefined, undefined);
    void this.load(id, lane, after);
    return lane;
  }

  /**
   * A lane for an execution whose first record is at hand: nothing before it to read, and no
   * results written yet. Should either be wrong (the record is a redelivery after a restart, or
   * another instance wrote first), creating the entry conflicts and the lane reads the log.
   */
  private openAtStart(id: string): Lane {
    return this.addLane(id, new ExecutionFold(), GENESIS);
  }

  private addLane(id: string, fold: ExecutionFold | undefined, head: string | undefined): Lane {
    const lane: Lane = {
      fold,
      loadedSeq: 0,
      seq: 0,
      head,
      writtenSeq: 0,
      revision: 0,
      claimed: undefined,
      queued: [],
      waiting: [],
      writing: undefined,
      conflicts: 0,
      retired: false,
    };
    this.lanes.set(id, lane);
    this.evict();
    return lane;
  }

  /**
   * Reads the entry's revision, then the whole log, and folds it. In that order: whatever
   * another instance wrote up to that revision came from events that are in the log by then, so
   * this fold holds at least as much, and a write by anyone after it makes ours conflict.
   */
  private async load(id: string, lane: Lane, after?: Promise<void>): Promise<void> {
    lane.fold = undefined;
    try {
      await after;
      const revision = (await this.kv.get(id))?.revision ?? 0;
      const read = await readEvents(this.jsm, id);
      for (const invalid of read.invalid)
        this.logger.error({ execution_id: id, seq: invalid.seq }, invalid.reason);
      if (lane.retired) {
        for (const message of lane.queued.splice(0)) this.accept(id, message);
        return;
      }
      lane.fold = new ExecutionFold().apply(read.events.map((stored) => stored.event));
      lane.loadedSeq = read.lastSeq;
      lane.seq = read.lastSeq;
      lane.head = read.head;
      lane.revision = revision;
    } catch (error) {
      this.fail(id, lane, error);
      return;
    }
    for (const message of lane.queued.splice(0)) this.foldInto(id, lane, message);
    this.flush(id, lane);
  }

  private foldInto(id: string, lane: Lane, message: Message): void {
    const laneFold = lane.fold;
    if (lane.retired || laneFold === undefined) {
      // The lane was replaced while its queue was being folded: the rest go to the new one.
      this.accept(id, message);
      return;
    }
    const { events, seq, link, waiter } = message;
    if (seq > lane.seq) {
      if (link !== undefined && lane.head !== undefined && link.prev !== lane.head) {
        // The record before this one never reached this lane: another results service was given
        // it (they share the consumer), or it failed here and comes again later. Folding this one
        // would leave a hole that a successful write could store, and that nothing would fill if
        // the other message were then dropped. Read the log instead.
        this.replace(id, lane, message);
        return;
      }
      try {
        laneFold.apply(events);
      } catch (error) {
        waiter.reject(error);
        this.fail(id, lane, error);
        return;
      }
      lane.seq = seq;
      lane.head = link?.hash;
    } else if (seq > lane.loadedSeq) {
      // Not in the log that was read, and a later message was folded without it: it came out of
      // order, to another instance first, or again after a failure. Read the log again.
      this.replace(id, lane, message);
      return;
    }
    const state = laneFold.state;
    if (state.status === 'new') {
      // Every execution's log opens with ExecutionStarted or ExecutionRejected (appended at
      // sequence 0): anything else first was published by someone other than the orchestrator.
      waiter.reject(neverStarted(id, events[0]?.type ?? 'an event'));
      return;
    }
    if (seq <= lane.writtenSeq) waiter.resolve();
    else {
      lane.waiting.push(waiter);
      this.flush(id, lane);
    }
  }

  /** Starts the next write if none is in flight and some message waits for one. */
  private flush(id: string, lane: Lane): void {
    const state = lane.fold?.state;
    if (lane.retired || state === undefined || lane.writing !== undefined || lane.waiting.length === 0)
      return;
    if (state.status === 'new') {
      for (const waiter of lane.waiting.splice(0)) waiter.reject(neverStarted(id, 'an event'));
      return;
    }
    const started = performance.now();
    const writing = this.write(id, lane, state, lane.seq).then(async (bytes) => {
      // A large value (a wide execution) costs milliseconds to project, encode and store: the
      // next write waits as long as this one took, so that rewriting it takes at most about half
      // of this process. Small values and the write of a finished execution do not wait.
      const took = performance.now() - started;
      if (bytes >= PACE_FROM_BYTES && lane.waiting.length > 0 && lane.fold?.state.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, Math.min(took, MAX_PACE_MS)));
      }
      lane.writing = undefined;
      this.flush(id, lane);
    });
    lane.writing = writing;
  }

  /**
   * Writes the results only over the revision this lane knows, so that two instances (a rolling
   * update) cannot put an older fold over a newer one: on a conflict it reads the log again and
   * writes again. Never rejects.
   */
  /** Resolves with the size of the value written (0 when nothing was written). */
  private async write(id: string, lane: Lane, state: ExecutionState, seq: number): Promise<number> {
    let value: Uint8Array;
    try {
      value = this.encodeResults(state, id);
      const written = await writeResultsValue(this.js, this.kv, id, value, lane.revision);
      lane.revision = written.revision;
      // The previous copy is replaced. Deleted a while later, so a reader that got the old
      // reference just now still finds it (one that does not reads the entry again).
      const replaced = lane.claimed;
      if (replaced !== undefined)
        setTimeout(() => void releaseClaim(this.js, replaced), RELEASE_AFTER_MS).unref();
      lane.claimed = written.claimed;
    } catch (error) {
      if (lane.retired) return 0;
      if (isWrongLastSequence(error) && lane.conflicts < MAX_WRITE_CONFLICTS) {
        lane.conflicts += 1;
        this.logger.debug(
          { execution_id: id, conflicts: lane.conflicts },
          'results written by another instance, folding again',
        );
        void this.load(id, lane);
      } else this.fail(id, lane, error);
      return 0;
    }
    lane.conflicts = 0;
    lane.writtenSeq = Math.max(lane.writtenSeq, seq);
    const still: Waiter[] = [];
    for (const waiter of lane.waiting) {
      if (waiter.seq <= seq) waiter.resolve();
      else still.push(waiter);
    }
    lane.waiting = still;
    return value.length;
  }

  /** The results as bytes, measured once: only a value over the limit is made to fit. */
  private encodeResults(state: ExecutionState, id: string): Uint8Array {
    const results = toExecutionResults(state, id);
    const value = encode(results);
    return value.length <= this.maxValueBytes ? value : encode(fitResults(results, this.maxValueBytes));
  }

  /** A new lane that reads the log again (after the old one's write), taking over its messages. */
  private replace(id: string, lane: Lane, message: Message): void {
    this.retire(id, lane);
    const fresh = this.open(id, lane.writing);
    fresh.waiting.push(...lane.waiting.splice(0));
    fresh.queued.push(...lane.queued.splice(0), message);
  }

  /**
   * Drops the execution's fold and fails its messages (they are redelivered): the next message
   * reads the whole log again, so a message that failed never leaves a gap in the fold.
   */
  private fail(id: string, lane: Lane, error: unknown): void {
    this.retire(id, lane);
    const messages = lane.waiting.length + lane.queued.length;
    this.logger.warn(
      { execution_id: id, messages, ...errorFields(error) },
      'results not written; the execution will be read again',
    );
    for (const waiter of lane.waiting.splice(0)) waiter.reject(error);
    for (const message of lane.queued.splice(0)) message.waiter.reject(error);
  }

  private retire(id: string, lane: Lane): void {
    lane.retired = true;
    if (this.lanes.get(id) === lane) this.lanes.delete(id);
  }

  /**
   * Forgets the least recently used idle executions beyond the capacity. A size-capped map of its
   * own rather than lru-cache, which evicts the least recently used entry whatever it holds: a
   * lane with a write in flight or messages waiting must stay, so the map may exceed its
   * capacity while every lane is busy.
   */
  private evict(): void {
    if (this.lanes.size <= this.capacity) return;
    for (const [id, lane] of this.lanes) {
      if (this.lanes.size <= this.capacity) return;
      const idle =
        lane.fold !== undefined &&
        lane.writing === undefined &&
        lane.waiting.length === 0 &&
        lane.queued.length === 0;
      if (idle) this.retire(id, lane);
    }
  }
}

/**
 * Whether a record is the first of its execution's log: the orchestrator appends
 * ExecutionStarted or ExecutionRejected only to an execution's empty subject.
 */
function opensTheLog(events: readonly ExecutionEvent[]): boolean {
  const first = events[0]?.type;
  return first === 'ExecutionStarted' || first === 'ExecutionRejected';
}

function neverStarted(id: string, what: string): ValidationError {
  return new ValidationError(`${what} for execution ${id}, which was never started`, [
    { path: 'execution_id', message: `no ExecutionStarted or ExecutionRejected on ${id}'s subject` },
  ]);
}
