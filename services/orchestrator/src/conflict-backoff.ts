/** The first wait after a conflict is at most this long (ms); each further conflict doubles it... */
const FIRST_MS = 2;
/** ...up to this (ms). */
const MAX_MS = 200;

/**
 * How long to wait before deciding again after an append conflict (`conflicts`: how many came
 * before this one): a random time up to FIRST_MS × 2^conflicts, at most MAX_MS ("full jitter").
 * Replicas that conflicted on one execution then try again at different moments instead of
 * colliding again in lockstep.
 */
export function conflictBackoffMs(conflicts: number, random: () => number = Math.random): number {
  return random() * Math.min(MAX_MS, FIRST_MS * 2 ** conflicts);
}
