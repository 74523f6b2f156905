import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { type BusLogger, encode, isWrongLastSequence, readEvents } from '@orchestra/bus';
import { type ExecutionEvent, ValidationError } from '@orchestra/contracts';
import { type ExecutionState, evolve, fitResults, fold, toExecutionResults } from '@orchestra/execution';

interface Folded {
  state: ExecutionState;
  seq: number;
  /** Revision of the bucket entry this instance last wrote or read; undefined: not known yet. */
  revision?: number;
}

const MAX_WRITE_CONFLICTS = 10;

/**
 * Folds the event stream into `execution_results`, one KV entry per execution. Events arrive in
 * stream order from a durable consumer; an execution seen for the first time (or again after a
 * restart) is read from its subject in full, so the fold never starts half-way.
 */
export class ResultsProjector {
  private readonly folded = new Map<string, Folded>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    private readonly logger: BusLogger,
    /** Largest bucket value the server takes (its max_payload, less room for headers). */
    private readonly maxValueBytes: number,
    private readonly capacity = 10_000,
  ) {}

  async apply(event: ExecutionEvent, seq: number): Promise<void> {
    const id = event.execution_id;
    let current = this.folded.get(id);
    if (current && seq <= current.seq) return;
    if (current && seq > current.seq) current = { state: evolve(current.state, event), seq };
    else current = await this.load(id, seq);
    if (current.state.status === 'new') {
      // Every execution's log opens with ExecutionStarted or ExecutionRejected (appended at
      // sequence 0): anything else first was published by someone other than the orchestrator.
      throw new ValidationError(`${event.type} for execution ${id}, which was never started`, [
        { path: 'execution_id', message: `no ExecutionStarted or ExecutionRejected on ${id}'s subject` },
      ]);
    }
    this.remember(id, current);
    await this.write(id, current, seq);
  }

  /**
   * Writes the results only over the revision this instance knows, so that two instances (a
   * rolling update) cannot put an older fold over a newer one: on a conflict it re-reads the
   * whole log and writes again.
   */
  private async write(id: string, folded: Folded, seq: number): Promise<void> {
    let current = folded;
    for (let conflicts = 0; ; conflicts++) {
      const value = encode(fitResults(toExecutionResults(current.state, id), this.maxValueBytes));
      try {
        current.revision ??= (await this.kv.get(id))?.revision ?? 0;
        current.revision =
          current.revision === 0
            ? await this.kv.create(id, value)
            : await this.kv.update(id, value, current.revision);
        return;
      } catch (error) {
        if (!isWrongLastSequence(error) || conflicts >= MAX_WRITE_CONFLICTS) throw error;
        this.logger.debug(
          { execution_id: id, conflicts },
          'results written by another instance, folding again',
        );
        current = await this.load(id, seq);
        this.remember(id, current);
      }
    }
  }

  private async load(id: string, seq: number): Promise<Folded> {
    const read = await readEvents(this.jsm, id);
    for (const invalid of read.invalid)
      this.logger.error({ execution_id: id, seq: invalid.seq }, invalid.reason);
    return {
      state: fold(read.events.map((stored) => stored.event)),
      seq: Math.max(read.lastSeq, seq),
    };
  }

  private remember(id: string, folded: Folded): void {
    this.folded.delete(id);
    this.folded.set(id, folded);
    if (this.folded.size > this.capacity) {
      const oldest = this.folded.keys().next().value;
      if (oldest !== undefined) this.folded.delete(oldest);
    }
  }
}
