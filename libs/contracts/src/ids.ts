import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * Ids of phases and tasks appear in references (`${phase.task.output}`), message ids
 * (`execution:task:attempt`) and logs, so they exclude `.`, `:`, `$`, `{`, `}` and spaces.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** A plugin name is one NATS subject token: no `.`, `*`, `>` or white space. `@` is welcome. */
export const PLUGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_@-]*$/;
/** Execution ids become one subject token too. */
export const EXECUTION_ID_PATTERN = ID_PATTERN;

export const Identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.idLength, `must be at most ${LIMITS.idLength} characters`)
  .regex(ID_PATTERN, 'must start with a letter or digit and contain only letters, digits, "-" and "_"');

export const PluginName = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.idLength, `must be at most ${LIMITS.idLength} characters`)
  .regex(
    PLUGIN_PATTERN,
    'must be a single NATS subject token: letters, digits, "-", "_" and "@" only (no ".", "*", ">" or spaces)',
  );

export const ExecutionId = Identifier;

/**
 * A new execution id, chosen at the edge (CLI, client, API) when the caller gives none: a
 * time-ordered prefix for humans and a random suffix for uniqueness. Valid as a subject token.
 */
export function newExecutionId(now = Date.now()): string {
  return `x${now.toString(36)}-${globalThis.crypto.randomUUID().slice(0, 8)}`;
}
