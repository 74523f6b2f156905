import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { type BusLogger, encode, readEvents } from '@orchestra/bus';
import { type ExecutionEvent, ValidationError } from '@orchestra/contracts';
import { type ExecutionState, evolve, fold, toExecutionResults } from '@orchestra/execution';

interface Folded {
  state: ExecutionState;
  seq: number;
}

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
    await this.kv.put(id, encode(toExecutionResults(current.state, id)));
    if (current.state.status === 'finished' || current.state.status === 'rejected') this.folded.delete(id);
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
