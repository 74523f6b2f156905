import type { Backoff } from '@orchestra/contracts';
import type { Emitter } from './emitter.js';
import type { TaskIndexEntry, TaskState } from './state.js';

/**
 * The failure policy, all of it: what follows a failed or timed-out attempt. The seed's state
 * machine FAILED/TIMEOUT -> RETRY -> FALLBACK -> SKIP (or abort), plus non-retryable failures.
 * A rule on an error code (TaskState.attempts holds each attempt's code) belongs here.
 */
export type NextStep =
  | { kind: 'retry'; delay_ms: number }
  | { kind: 'fallback'; plugin: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'give-up'; status: 'failed' | 'timeout'; reason: string };

/**
 * Retry on the assigned plugin while retries remain, unless the plugin said retrying cannot help
 * (`retryable: false`); then one attempt on the fallback plugin; then, with every attempt spent,
 * skip the task under `continue` or give up (abort the run) under `abort`.
 */
export function nextStepAfterFailure(task: TaskState, entry: TaskIndexEntry): NextStep {
  const spec = entry.task;
  const onFallback = task.kind === 'fallback';
  if (!onFallback && task.last_retryable && task.attempt_number <= spec.retries)
    return { kind: 'retry', delay_ms: backoffDelay(spec.backoff, task.attempt_number) };
  if (spec.fallback_plugin && !onFallback) return { kind: 'fallback', plugin: spec.fallback_plugin };
  const attempts = `${task.attempt_number} attempt${task.attempt_number === 1 ? '' : 's'}`;
  const cause = `gave up after ${attempts}: ${task.error ?? 'unknown error'}`;
  if (entry.policy === 'continue') return { kind: 'skip', reason: cause };
  return {
    kind: 'give-up',
    status: task.last_failure === 'timeout' ? 'timeout' : 'failed',
    reason: `task "${task.task_id}" ${cause}; on_partial_failure is abort`,
  };
}

/**
 * Delay before retry number `retry` (1 for the first retry): initial × multiplier^(retry-1),
 * capped at max. Deterministic on purpose (no jitter), so replay reproduces the schedule.
 */
export function backoffDelay(backoff: Backoff, retry: number): number {
  const raw = backoff.initial_ms * backoff.multiplier ** Math.max(0, retry - 1);
  return Math.round(Math.min(backoff.max_ms, raw));
}

/** Emits the next step after a failed attempt; `dispatchFallback` starts the fallback attempt. */
export function afterFailure(
  emitter: Emitter,
  task: TaskState,
  entry: TaskIndexEntry,
  dispatchFallback: (plugin: string) => void,
): void {
  const ref = { phase_id: task.phase_id, task_id: task.task_id };
  const step = nextStepAfterFailure(task, entry);
  switch (step.kind) {
    case 'retry':
      emitter.emit({
        type: 'TaskRetryScheduled',
        ...ref,
        next_attempt_number: task.attempt_number + 1,
        delay_ms: step.delay_ms,
        due_at: emitter.now + step.delay_ms,
      });
      return;
    case 'fallback':
      dispatchFallback(step.plugin);
      return;
    case 'skip':
      emitter.emit({ type: 'TaskSkipped', ...ref, reason: step.reason });
      return;
    case 'give-up':
      emitter.emit({ type: 'TaskGaveUp', ...ref, status: step.status, reason: step.reason });
      return;
    default: {
      const _exhaustive: never = step;
      throw new Error(`unknown step ${JSON.stringify(_exhaustive)}`);
    }
  }
}
