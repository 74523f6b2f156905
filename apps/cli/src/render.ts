import type { ExecutionEvent, ExecutionResults } from '@orchestra/contracts';
import { stringify } from 'yaml';

/** One human line per event, for timelines and live watching. */
export function describeEvent(event: ExecutionEvent): string {
  switch (event.type) {
    case 'ExecutionRejected':
      return `rejected: ${event.reason}${event.issues.map((i) => `\n    ${i.path}: ${i.message}`).join('')}`;
    case 'ExecutionStarted':
      return `started plan ${event.plan.plan_id} (${event.plan.phases.length} phases, ${countTasks(event)} tasks)`;
    case 'PhaseStarted':
      return `phase ${event.phase_id} started`;
    case 'TaskDispatched':
      return `${event.phase_id}/${event.task_id} → attempt ${event.attempt_number} (${event.kind}) on ${event.plugin}`;
    case 'TaskSucceeded':
      return `${event.phase_id}/${event.task_id} ✓ succeeded on ${event.plugin_used} in ${event.duration_ms} ms`;
    case 'TaskFailed':
      return `${event.phase_id}/${event.task_id} ✗ attempt ${event.attempt_number} failed: ${event.error}`;
    case 'TaskTimedOut':
      return `${event.phase_id}/${event.task_id} ⏱ attempt ${event.attempt_number} timed out on ${event.plugin_used}`;
    case 'TaskRetryScheduled':
      return `${event.phase_id}/${event.task_id} ↻ retry as attempt ${event.next_attempt_number} in ${event.delay_ms} ms`;
    case 'TaskSkipped':
      return `${event.phase_id}/${event.task_id} – skipped: ${event.reason}`;
    case 'TaskGaveUp':
      return `${event.phase_id}/${event.task_id} ✗ gave up (${event.status}): ${event.reason}`;
    case 'TaskReused':
      return `${event.phase_id}/${event.task_id} ✓ reused from ${event.source_execution_id} (record ${event.source_seq})`;
    case 'OutcomeIgnored':
      return `${event.phase_id}/${event.task_id} ignored an outcome of attempt ${event.attempt_number}: ${event.reason}`;
    case 'PhaseFinished':
      return `phase ${event.phase_id} ${event.status}`;
    case 'ExecutionCancelled':
      return `cancel requested: ${event.reason}`;
    case 'ExecutionRepaired':
      return `repair ${event.repair}: ${event.tasks.length > 0 ? event.tasks.join(', ') : 'every task in flight'} published again (${event.reason})`;
    case 'ExecutionFinished':
      return `execution ${event.status}`;
    default: {
      const _exhaustive: never = event;
      return String(_exhaustive);
    }
  }
}

function countTasks(event: Extract<ExecutionEvent, { type: 'ExecutionStarted' }>): number {
  return event.plan.phases.reduce((sum, phase) => sum + phase.tasks.length, 0);
}

/**
 * The columns of `replay`'s timeline: the stream sequence of the record that holds the event (the
 * events of one decision share it), the time since the first event, and what happened.
 */
export const TIMELINE_HEADER = `  ${'record'.padEnd(9)}${'after'.padStart(11)}  event`;

export function timelineLine(seq: number, event: ExecutionEvent, origin: number): string {
  const offset = ((event.at - origin) / 1000).toFixed(3).padStart(9);
  return `  ${`#${seq}`.padEnd(9)}+${offset}s  ${describeEvent(event)}`;
}

/** `execution_results` in the seed's own shape, as YAML under an `execution_results:` key. */
export function formatResults(results: ExecutionResults): string {
  return stringify({ execution_results: results }, { lineWidth: 0 }).trimEnd();
}
