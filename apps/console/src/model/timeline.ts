/**
 * The timeline of an execution: one bar per attempt and the waits between them, read from the
 * events. The fold (libs/execution) keeps only each task's current attempt; a timeline needs all
 * of them, so this is a read model of its own over the same events. Pure and browser-safe.
 */
import type { ExecutionEvent, JsonObject, JsonValue } from '@orchestra/contracts';

/** Agent plugins report what the model spent; shown when an event carries it. */
export interface Usage {
  model?: string;
  input_tokens?: number;
  output_tokens?: number;
  finish_reason?: string;
}

export type AttemptOutcome = 'in_flight' | 'succeeded' | 'failed' | 'timeout' | 'abandoned';

export interface Attempt {
  attempt_number: number;
  kind: 'first' | 'retry' | 'fallback';
  plugin: string;
  input_context: JsonObject;
  dispatched_at: number;
  deadline_at: number;
  /** When the orchestrator recorded the outcome (or gave the attempt up); null while in flight. */
  ended_at: number | null;
  /** The plugin's own run time, from the outcome: the rest of the bar is queueing and transport. */
  run_ms: number | null;
  outcome: AttemptOutcome;
  output: JsonValue | null;
  error: string | null;
  /** The plugin's error code, and whether it said the failure is not worth a retry. */
  error_code: string | null;
  retryable: boolean;
  usage: Usage | null;
}

export interface Wait {
  kind: 'dependencies' | 'backoff';
  from: number;
  /** When the wait ended (the next dispatch); null while it lasts. */
  to: number | null;
  /** For a backoff: when the retry was due. */
  due_at: number | null;
}

export interface TaskTimeline {
  task_id: string;
  phase_id: string;
  attempts: Attempt[];
  waits: Wait[];
  skipped: { at: number; reason: string } | null;
  /** In a re-run: the source whose output this task took (it ran no attempt here). */
  reused: { at: number; source_execution_id: string; source_seq: number } | null;
  gave_up: { at: number; status: 'failed' | 'timeout'; reason: string } | null;
}

export interface Timeline {
  started_at: number | null;
  finished_at: number | null;
  /** Latest event time seen: the right edge while the execution runs. */
  last_at: number | null;
  phase_started: Map<string, number>;
  tasks: Map<string, TaskTimeline>;
}

export function emptyTimeline(): Timeline {
  return { started_at: null, finished_at: null, last_at: null, phase_started: new Map(), tasks: new Map() };
}

export function timelineOf(events: Iterable<ExecutionEvent>): Timeline {
  const timeline = emptyTimeline();
  for (const event of events) applyToTimeline(timeline, event);
  return timeline;
}

/** Applies one event, changing `timeline` in place (its owner batches renders). Never throws. */
export function applyToTimeline(timeline: Timeline, event: ExecutionEvent): void {
  timeline.last_at = Math.max(timeline.last_at ?? event.at, event.at);
  switch (event.type) {
    case 'ExecutionStarted':
      timeline.started_at = event.at;
      for (const phase of event.plan.phases) {
        for (const task of phase.tasks)
          timeline.tasks.set(task.task_id, emptyTask(task.task_id, phase.phase_id));
      }
      break;
    case 'ExecutionRejected':
      timeline.started_at ??= event.at;
      timeline.finished_at = event.at;
      break;
    case 'PhaseStarted':
      timeline.phase_started.set(event.phase_id, event.at);
      break;
    case 'TaskDispatched':
      dispatched(timeline, event);
      break;
    case 'TaskSucceeded':
    case 'TaskFailed':
    case 'TaskTimedOut':
      ended(timeline, event);
      break;
    case 'TaskRetryScheduled': {
      const task = timeline.tasks.get(event.task_id);
      task?.waits.push({ kind: 'backoff', from: event.at, to: null, due_at: event.due_at });
      break;
    }
    case 'TaskSkipped': {
      const task = timeline.tasks.get(event.task_id);
      if (task) task.skipped = { at: event.at, reason: event.reason };
      break;
    }
    case 'TaskGaveUp': {
      const task = timeline.tasks.get(event.task_id);
      if (task) task.gave_up = { at: event.at, status: event.status, reason: event.reason };
      break;
    }
    case 'ExecutionFinished':
      timeline.finished_at = event.at;
      closeOpen(timeline, event.at);
      break;
    case 'TaskReused': {
      // A reused task (a re-run) ran no attempt in this execution: a mark, no bar.
      const task = timeline.tasks.get(event.task_id);
      if (task) {
        const { at, source_execution_id, source_seq } = event;
        task.reused = { at, source_execution_id, source_seq };
      }
      break;
    }
    case 'OutcomeIgnored':
    case 'PhaseFinished':
    case 'ExecutionCancelled':
    case 'ExecutionRepaired':
      break;
    default: {
      const _exhaustive: never = event;
      return;
    }
  }
}

function emptyTask(task_id: string, phase_id: string): TaskTimeline {
  return { task_id, phase_id, attempts: [], waits: [], skipped: null, reused: null, gave_up: null };
}

function dispatched(timeline: Timeline, event: Extract<ExecutionEvent, { type: 'TaskDispatched' }>): void {
  const task = timeline.tasks.get(event.task_id);
  if (!task || task.attempts.some((a) => a.attempt_number === event.attempt_number)) return;
  const backoff = task.waits.find((wait) => wait.kind === 'backoff' && wait.to === null);
  if (backoff) backoff.to = event.at;
  if (task.attempts.length === 0) {
    // Time between the phase's start and the first dispatch: waiting for depends_on, references
    // or the previous task of a sequential phase.
    const phaseStart = timeline.phase_started.get(event.phase_id) ?? timeline.started_at;
    if (phaseStart !== null && event.at > phaseStart) {
      task.waits.push({ kind: 'dependencies', from: phaseStart, to: event.at, due_at: null });
    }
  }
  task.attempts.push({
    attempt_number: event.attempt_number,
    kind: event.kind,
    plugin: event.plugin,
    input_context: event.input_context,
    dispatched_at: event.at,
    deadline_at: event.deadline_at,
    ended_at: null,
    run_ms: null,
    outcome: 'in_flight',
    output: null,
    error: null,
    error_code: null,
    retryable: true,
    usage: null,
  });
}

type Ended = Extract<ExecutionEvent, { type: 'TaskSucceeded' | 'TaskFailed' | 'TaskTimedOut' }>;

function ended(timeline: Timeline, event: Ended): void {
  const attempt = timeline.tasks
    .get(event.task_id)
    ?.attempts.find((a) => a.attempt_number === event.attempt_number);
  if (attempt?.outcome !== 'in_flight') return;
  attempt.ended_at = event.at;
  // A timeout's duration runs from the dispatch: no plugin said how long it ran, if it ran at all.
  attempt.run_ms = event.type === 'TaskTimedOut' ? null : event.duration_ms;
  attempt.plugin = event.plugin_used;
  if (event.type === 'TaskSucceeded') {
    attempt.outcome = 'succeeded';
    attempt.output = event.output;
  } else if (event.type === 'TaskFailed') {
    attempt.outcome = 'failed';
    attempt.error = event.error;
    attempt.error_code = event.code ?? null;
    attempt.retryable = event.retryable !== false;
  } else {
    attempt.outcome = 'timeout';
    attempt.error = `timed out after ${event.duration_ms} ms`;
  }
  attempt.usage = usageOf(event);
}

/** An attempt or a wait still open when the execution ended was cut short by it. */
function closeOpen(timeline: Timeline, at: number): void {
  for (const task of timeline.tasks.values()) {
    for (const attempt of task.attempts) {
      if (attempt.outcome !== 'in_flight') continue;
      attempt.outcome = 'abandoned';
      attempt.ended_at = at;
    }
    for (const wait of task.waits) wait.to ??= at;
  }
}

/** The optional `usage` of TaskSucceeded and TaskFailed (agent plugins), when present and sound. */
export function usageOf(event: object): Usage | null {
  const usage = (event as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return null;
  const { model, input_tokens, output_tokens, finish_reason } = usage as Record<string, unknown>;
  const result: Usage = {};
  if (typeof model === 'string') result.model = model;
  if (typeof input_tokens === 'number') result.input_tokens = input_tokens;
  if (typeof output_tokens === 'number') result.output_tokens = output_tokens;
  if (typeof finish_reason === 'string') result.finish_reason = finish_reason;
  return Object.keys(result).length > 0 ? result : null;
}

/**
 * The part of an ended attempt spent waiting for a worker (queueing, transport, the decision)
 * and the part the plugin ran, in ms. While in flight the two cannot be told apart.
 */
export function attemptSegments(attempt: Attempt): { queued_ms: number; run_ms: number } | null {
  if (attempt.ended_at === null || attempt.run_ms === null) return null;
  const total = Math.max(0, attempt.ended_at - attempt.dispatched_at);
  const run = Math.min(total, attempt.run_ms);
  return { queued_ms: total - run, run_ms: run };
}
