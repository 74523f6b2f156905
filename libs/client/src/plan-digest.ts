import { createHash } from 'node:crypto';
import type { ExecutionEvent, Plan } from '@orchestra/contracts';

/**
 * The digest of a validated plan (defaults filled in): SHA-256 of its JSON with every object's
 * keys sorted, so the same plan written in another order or format has the same digest. An
 * execution's ExecutionStarted event holds the validated plan it runs, so its digest says whether
 * a command resubmitted under the same execution id carries the same plan.
 */
export function planDigest(plan: Plan): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What an execution id already holds, compared with a plan about to be submitted under it. */
export type PriorRun =
  /** Nothing was stored under the id yet (or no orchestrator has started it). */
  | { kind: 'none' }
  /** The id runs (or ran) this very plan: resubmitting it starts nothing new. */
  | { kind: 'same'; plan_id: string }
  /** The id runs (or ran) another plan. */
  | { kind: 'different'; plan_id: string; digest: string }
  /** The id was given to a plan the orchestrator rejected. */
  | { kind: 'rejected'; plan_id?: string; reason: string };

/** Compares `plan` with the first event of an execution (ExecutionStarted or ExecutionRejected). */
export function comparePriorRun(first: ExecutionEvent | undefined, plan: Plan): PriorRun {
  if (first?.type === 'ExecutionStarted') {
    const digest = planDigest(first.plan);
    return digest === planDigest(plan)
      ? { kind: 'same', plan_id: first.plan.plan_id }
      : { kind: 'different', plan_id: first.plan.plan_id, digest };
  }
  if (first?.type === 'ExecutionRejected') {
    return { kind: 'rejected', reason: first.reason, ...(first.plan_id ? { plan_id: first.plan_id } : {}) };
  }
  return { kind: 'none' };
}
