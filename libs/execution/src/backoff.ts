import type { Backoff } from '@orchestra/contracts';

/**
 * Delay before retry number `retry` (1 for the first retry): initial × multiplier^(retry-1),
 * capped at max. Deterministic on purpose (no jitter), so replay reproduces the schedule.
 */
export function backoffDelay(backoff: Backoff, retry: number): number {
  const raw = backoff.initial_ms * backoff.multiplier ** Math.max(0, retry - 1);
  return Math.round(Math.min(backoff.max_ms, raw));
}
