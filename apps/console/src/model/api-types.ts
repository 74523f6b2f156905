/**
 * The console's JSON API, shared by the server and the page. Types only: the page bundles this
 * module, so it must stay free of Node and of anything with side effects.
 */
import type { LiveWorker } from '@orchestra/bus';
import type { ExecutionEvent, ExecutionStatus, Issue } from '@orchestra/contracts';

/** One row of the executions list, kept in the server's index (one per key of orchestra_results). */
export interface ExecutionSummary {
  execution_id: string;
  plan_id: string | null;
  status: ExecutionStatus;
  /** Epoch ms; null until the execution has started. */
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  total: number;
  successful: number;
  failed: number;
  skipped: number;
  timeout: number;
  /** Tasks dispatched and not finished yet. */
  running: number;
  /** Plugins that ran at least one attempt (plugin_used of the tasks). */
  plugins: string[];
  /** The first error of the run, if any (why it was rejected, aborted or cancelled). */
  error: string | null;
  /** Revision of the bucket entry this row was made from. */
  revision: number;
}

export interface ExecutionPage {
  items: ExecutionSummary[];
  /** How many executions match the filters, over the whole index. */
  total: number;
  /** Executions in the index. */
  indexed: number;
  /** Highest bucket revision in the index: open the change stream after it, so nothing is missed. */
  revision: number;
  /** Cursor of the next (older) page, or null on the last one. */
  next: string | null;
}

/** `event: changes` of /api/executions/changes: rows that changed, or were removed (`removed: true`). */
export type ExecutionChange = ExecutionSummary | { execution_id: string; removed: true; revision: number };

export interface Facets {
  plans: string[];
  plugins: string[];
}

/** What the page may do: actions arrive with later issues and are switched on here. */
export interface Capabilities {
  cancel: boolean;
  submit: boolean;
  /** Re-run from failure (RerunExecution through orchestra.api.rerun). */
  rerun: boolean;
  /** The plugins page: the live workers of each plugin (they announce themselves on NATS). */
  plugins: boolean;
}

export interface SessionInfo {
  /** Sent back as `X-CSRF-Token` on every POST. */
  csrf_token: string;
  capabilities: Capabilities;
  /** Prefix of the equivalent CLI commands (`NATS_URL=... npx orchestra`). */
  cli: string;
}

/** `event: record` of /api/executions/:id/events: one stored message (the events of one decision). */
export interface StreamRecord {
  seq: number;
  events: ExecutionEvent[];
}

/** `event: invalid`: a stored message that is not a valid record, shown rather than dropped. */
export interface StreamInvalid {
  seq: number;
  reason: string;
  issues: Issue[];
}

/** `event: caught-up`: every message stored when the stream opened has been sent. */
export interface StreamCaughtUp {
  seq: number;
}

export interface ReplayCheck {
  execution_id: string;
  /** Stored execution_results equal the ones recomputed from the log with the services' fold. */
  matches: boolean;
  stored: boolean;
  events: number;
  /** Paths where stored and recomputed differ (at most 20). */
  differences: string[];
  /** The tamper-evident chain of the stored records (hashes, and signatures given a trusted key). */
  chain: ChainCheck;
}

export interface ChainCheck {
  ok: boolean;
  records: number;
  /** False when the console trusts no key: links and hashes were checked, signatures not. */
  signatures_checked: boolean;
  signatures_verified: number;
  ends_with_finish: boolean;
  /** The first record that does not verify, and why. */
  first_problem?: { seq: number; index: number; problem: string };
}

export interface ValidateResponse {
  ok: boolean;
  issues: Issue[];
  plan?: { plan_id: string; phases: number; tasks: number };
}

export interface ActionResponse {
  execution_id: string;
  /** The same action on the command line. */
  cli: string;
  duplicate?: boolean;
}

/** A re-run from failure: the new execution, what it reuses and what runs again (and why). */
export interface RerunResponse extends ActionResponse {
  rerun_of: string;
  /** `phase_id.task_id` of the tasks whose outputs are taken from the source. */
  reused: string[];
  run_again: Array<{ task: string; why: string }>;
}

export interface ApiError {
  error: { code: string; message: string; issues?: Issue[] };
}

/** One plugin on the plugins page: its live workers (the NATS service API) and their sums. */
export interface PluginSummary {
  plugin: string;
  kind: string;
  workers: LiveWorker[];
  /** Sums over the workers that report them. */
  concurrency: number;
  in_flight: number;
  processed: number;
  failed: number;
}

export interface PluginsView {
  plugins: PluginSummary[];
  /** Plugins that ran a task of an indexed execution and that no live worker serves now. */
  without_worker: string[];
}
