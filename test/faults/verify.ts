import { isDeepStrictEqual } from 'node:util';
import type { OrchestraClient } from '@orchestra/client';
import type { ExecutionEvent, ExecutionResults } from '@orchestra/contracts';
import { fold, toExecutionResults } from '@orchestra/execution';
import { REPO_ROOT } from '../support/cli.js';
import { orchestraInProcess } from '../support/cli-in-process.js';
import type { Expected } from './plans.js';

export interface Verdict {
  execution_id: string;
  lost: boolean;
  unfinished: boolean;
  doubleCounted: string[];
  /** Stored execution_results differ from the ones recomputed from the log. */
  replayMismatch: boolean;
  /** Where they differ first (a path, the stored value and the recomputed one), when they do. */
  replayDifference?: string;
  /** Differences from a run without faults that no kill explains. */
  mismatches: string[];
  /** Differences explained by a kill: an attempt on a served plugin timed out. */
  killForced: string[];
  /**
   * What `orchestra verify` said when the log's chain or a signature did not verify (the first
   * record that does not, docs/audit.md); null when it verified. Set by `verifyLog`.
   */
  chainProblem: string | null;
}

const TERMINAL = new Set<ExecutionEvent['type']>(['TaskSucceeded', 'TaskSkipped', 'TaskGaveUp']);

/** Checks one execution against invariant 5 (docs/architecture.md) and its fault-free expectation. */
export function verifyExecution(
  execution_id: string,
  events: ExecutionEvent[],
  stored: ExecutionResults | null,
  expected: Expected,
): Verdict {
  const verdict: Verdict = {
    execution_id,
    lost: events.length === 0,
    unfinished: false,
    doubleCounted: [],
    replayMismatch: false,
    mismatches: [],
    killForced: [],
    chainProblem: null,
  };
  if (verdict.lost) return verdict;
  const recomputed = toExecutionResults(fold(events), execution_id);
  verdict.unfinished = events.filter((event) => event.type === 'ExecutionFinished').length !== 1;
  verdict.replayMismatch = !isDeepStrictEqual(stored, recomputed);
  if (verdict.replayMismatch) verdict.replayDifference = firstDifference(stored, recomputed);

  const terminalCount = new Map<string, number>();
  for (const event of events) {
    if (TERMINAL.has(event.type) && 'task_id' in event) {
      terminalCount.set(event.task_id, (terminalCount.get(event.task_id) ?? 0) + 1);
    }
  }
  for (const [task_id, count] of terminalCount) if (count > 1) verdict.doubleCounted.push(task_id);
  const s = recomputed.summary;
  const counted = s.successful + s.failed + s.skipped + s.timeout;
  if (!verdict.unfinished && counted !== s.total_tasks) verdict.doubleCounted.push('(summary)');

  const timedOutOnServed = new Set(
    events.flatMap((event) =>
      event.type === 'TaskTimedOut' && event.plugin_used === 'builtin' ? [event.task_id] : [],
    ),
  );
  const differences: Array<[string | null, string]> = [];
  if (recomputed.status !== expected.status)
    differences.push([null, `status ${recomputed.status} ≠ ${expected.status}`]);
  const tasks = recomputed.phases.flatMap((phase) => phase.tasks);
  for (const [task_id, want] of Object.entries(expected.tasks)) {
    const got = tasks.find((task) => task.task_id === task_id);
    if (!got) differences.push([task_id, 'missing']);
    else if (got.status !== want.status) differences.push([task_id, `${got.status} ≠ ${want.status}`]);
    else if (want.output !== undefined && !isDeepStrictEqual(got.output, want.output)) {
      differences.push([task_id, `output ${JSON.stringify(got.output)} ≠ ${JSON.stringify(want.output)}`]);
    }
  }
  const forced = timedOutOnServed.size > 0;
  for (const [task_id, text] of differences) {
    const line = `${task_id ?? execution_id}: ${text}`;
    if (forced && (task_id === null || timedOutOnServed.has(task_id))) verdict.killForced.push(line);
    else verdict.mismatches.push(line);
  }
  return verdict;
}

/** The first path at which two JSON values differ, with both values there (for the failure report). */
export function firstDifference(stored: unknown, recomputed: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(stored, recomputed)) return undefined;
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null;
  if (isObject(stored) && isObject(recomputed) && Array.isArray(stored) === Array.isArray(recomputed)) {
    const keys = new Set([...Object.keys(stored), ...Object.keys(recomputed)]);
    for (const key of keys) {
      const found = firstDifference(stored[key], recomputed[key], `${path}.${key}`);
      if (found) return found;
    }
  }
  const show = (value: unknown) => JSON.stringify(value)?.slice(0, 300) ?? 'undefined';
  return `${path}: stored ${show(stored)}, recomputed ${show(recomputed)}`;
}

/** Reads what verification needs, retrying while the server may still be coming back. */
export async function readExecution(client: OrchestraClient, execution_id: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      const events = (await client.events(execution_id)).map((stored) => stored.event);
      const stored = await client.results(execution_id);
      return { events, stored };
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * `orchestra verify <id> --key <public key> --json`, through the CLI's main: the chain of every
 * record and each signature by the key the orchestrators signed with. A problem, or null.
 */
export async function verifyLog(
  natsUrl: string,
  execution_id: string,
  publicKey: string,
): Promise<string | null> {
  const run = await orchestraInProcess(['verify', execution_id, '--key', publicKey, '--json'], REPO_ROOT, {
    NATS_URL: natsUrl,
  });
  if (run.code === 0) return null;
  if (!run.stdout) return run.stderr.trim() || `exit code ${run.code}`;
  const verdict = JSON.parse(run.stdout) as { first_problem?: { seq: number; problem: string } };
  return `record at sequence ${verdict.first_problem?.seq}: ${verdict.first_problem?.problem}`;
}

export interface Tally {
  executions: number;
  kills: Record<string, number>;
  /** Restarts of the single nats-server (the cluster suite counts its faults in extra rows). */
  serverRestarts?: number;
  verdicts: Verdict[];
}

/** The suite's table: what was done to the system and what it lost. */
export function table(tally: Tally, faults: Array<[string, number]> = []): string {
  const sum = (pick: (v: Verdict) => boolean) => tally.verdicts.filter(pick).length;
  const rows: Array<[string, string | number]> = [
    ['executions', tally.executions],
    ...Object.entries(tally.kills).map(([service, n]): [string, number] => [`kill -9 ${service}`, n]),
    ...(tally.serverRestarts === undefined
      ? []
      : [['nats-server restarts', tally.serverRestarts] as [string, number]]),
    ...faults,
    ['lost', sum((v) => v.lost)],
    ['unfinished', sum((v) => v.unfinished)],
    ['double-counted', sum((v) => v.doubleCounted.length > 0)],
    ['replay mismatches', sum((v) => v.replayMismatch)],
    ['logs failing orchestra verify', sum((v) => v.chainProblem !== null)],
    ['result mismatches', sum((v) => v.mismatches.length > 0)],
    ['kill-forced differences', sum((v) => v.killForced.length > 0)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `| ${name.padEnd(width)} | ${String(value).padStart(7)} |`).join('\n');
}
