import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { appendEventRecords, type ChainLink, decode, GENESIS, readAuditRecords } from '@orchestra/bus';
import type { ExecutionEvent, ExecutionResults } from '@orchestra/contracts';
import { fitResults, fold, toExecutionResults } from '@orchestra/execution';
import { Simulation, type World } from '@orchestra/testing';

/** One stored message of `orchestra.events.<id>`: its stream sequence and its events. */
export interface StoredMessage {
  seq: number;
  events: ExecutionEvent[];
  /** Its place in the hash chain, from its headers (the results service reads it there). */
  link: ChainLink | undefined;
}

const everyTaskSucceeds: World = (command) => ({
  kind: 'succeed',
  output: { task: command.task_id, text: `output of ${command.task_id}` },
});

/**
 * An execution's log written to the events stream decision by decision, as the orchestrator
 * writes it (the real decider, through the in-memory Simulation), without running any service.
 */
export class EventLog {
  readonly sim: Simulation;
  private lastSeq = 0;
  private head = GENESIS;

  constructor(
    private readonly js: JetStreamClient,
    readonly executionId: string,
  ) {
    this.sim = new Simulation(executionId);
  }

  /** Starts a plan of one parallel phase of `width` tasks. */
  async start(width: number): Promise<void> {
    const tasks = Array.from({ length: width }, (_, i) => ({
      task_id: `t${i}`,
      assigned_plugin: 'worker',
      entry_point: { type: 'function' as const, value: 'run' },
    }));
    await this.append(this.sim.execute({ plan_id: 'wide', phases: [{ phase_id: 'p', tasks }] }).events);
  }

  /** Answers up to `count` dispatched tasks with a success, one decision each; false once finished. */
  async advance(count = 1): Promise<boolean> {
    for (let i = 0; i < count; i++) {
      if (this.finished) return false;
      if (!this.sim.step(everyTaskSucceeds)) return false;
      await this.append(this.sim.lastDecision?.events ?? []);
    }
    return !this.finished;
  }

  async runToEnd(): Promise<void> {
    while (await this.advance(100)) {}
  }

  get finished(): boolean {
    return this.sim.state.status === 'finished';
  }

  private async append(events: readonly ExecutionEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Chained as the orchestrator chains them (docs/audit.md), unsigned.
    const appended = await appendEventRecords(this.js, this.executionId, events, this.lastSeq, {
      chain: { prev: this.head },
    });
    this.lastSeq = appended.seq;
    this.head = appended.head;
  }
}

/** The stored messages of an execution, in order, with their events and their links. */
export async function messagesOf(jsm: JetStreamManager, executionId: string): Promise<StoredMessage[]> {
  return (await readAuditRecords(jsm, executionId)).map((record) => ({
    seq: record.seq,
    events: JSON.parse(record.payload) as ExecutionEvent[],
    link: record.hash === undefined ? undefined : { prev: record.prev ?? GENESIS, hash: record.hash },
  }));
}

/** What the results of the whole log must be: the fold of every event, fitted as the projector fits it. */
export function resultsOfLog(
  messages: readonly StoredMessage[],
  executionId: string,
  maxBytes = Number.POSITIVE_INFINITY,
): ExecutionResults {
  const state = fold(messages.flatMap((message) => message.events));
  return fitResults(toExecutionResults(state, executionId), maxBytes);
}

export async function storedResults(kv: KV, executionId: string): Promise<ExecutionResults | undefined> {
  const entry = await kv.get(executionId);
  return entry?.operation === 'PUT' ? (decode(entry.value) as ExecutionResults) : undefined;
}

/** Writes the bucket has taken so far (its stream's last sequence): the difference counts writes. */
export async function bucketWrites(kv: KV): Promise<number> {
  return (await kv.status()).streamInfo.state.last_seq;
}

const RANK: Record<string, number> = { pending: 0, running: 1 };
/** pending < running < anything final (of a task or of the execution). */
const rank = (status: string) => RANK[status] ?? 2;

/**
 * Follows the values the bucket stores for one key and records any that goes back: an execution
 * or a task whose status returns to an earlier one (a final one running again). A watch may skip
 * values overwritten before it got them; the ones it sees are in the order they were stored.
 */
export async function watchForRegressions(kv: KV, executionId: string) {
  const regressions: string[] = [];
  let values = 0;
  let previous: ExecutionResults | undefined;
  const iterator = await kv.watch({ key: executionId });
  const watching = (async () => {
    for await (const entry of iterator) {
      if (entry.operation !== 'PUT') continue;
      const results = decode(entry.value) as ExecutionResults;
      values += 1;
      if (previous) {
        if (rank(results.status) < rank(previous.status))
          regressions.push(`execution ${previous.status} -> ${results.status} at revision ${entry.revision}`);
        const before = new Map(previous.phases.flatMap((p) => p.tasks).map((t) => [t.task_id, t.status]));
        for (const task of results.phases.flatMap((p) => p.tasks)) {
          const was = before.get(task.task_id);
          if (was !== undefined && rank(task.status) < rank(was))
            regressions.push(`${task.task_id} ${was} -> ${task.status} at revision ${entry.revision}`);
        }
      }
      previous = results;
    }
  })();
  return {
    regressions,
    values: () => values,
    async stop() {
      iterator.stop();
      await watching.catch(() => undefined);
    },
  };
}
