import { type Env, readEnvironment, envVariable as variable } from '@orchestra/contracts';

/** The folded executions each orchestrator and results service keeps in memory, by default. */
export const DEFAULT_CACHED_EXECUTIONS = 10_000;

/**
 * The memory bound of the orchestrator and the results service (README, "Configuration"): each
 * keeps the folds of at most this many executions, the least recently used going first; an
 * execution not in memory is read from its log when its next message comes.
 */
export const CACHE_ENVIRONMENT = {
  ORCHESTRA_CACHED_EXECUTIONS: variable.integer(
    'folded executions the orchestrator and the results service each keep in memory (least recently used out first): their memory bound',
    { min: 100, max: 1_000_000 },
    DEFAULT_CACHED_EXECUTIONS,
  ),
} as const;

/** ORCHESTRA_CACHED_EXECUTIONS, checked (see CACHE_ENVIRONMENT). */
export function cachedExecutionsFromEnv(env: Env = process.env): number {
  return readEnvironment(CACHE_ENVIRONMENT, env).ORCHESTRA_CACHED_EXECUTIONS;
}
