import { maxValueBytes } from '@orchestra/bus';
import { depthExceeding, isJsonValue, type JsonValue, LIMITS } from '@orchestra/contracts';
import { PluginError } from './plugin.js';

/** Room for the rest of a TaskOutcome around its output. */
const OUTCOME_ENVELOPE_BYTES = 16 * 1024;

/**
 * A plugin's return value as the outcome's output: a JSON value within the limits every outcome
 * is held to (README, Plans: 32 MiB, nesting depth 64). Anything else fails the attempt with a
 * code saying which limit it broke.
 */
export function checkedOutput(output: unknown): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(output ?? null);
    if (text === undefined) throw new Error(`a ${typeof output} is not a JSON value`);
  } catch (error) {
    // Cycles, BigInts, or nesting too deep for the serialiser.
    const reason = error instanceof Error ? error.message : String(error);
    throw new PluginError(`output is not serialisable as JSON: ${reason}`, 'OUTPUT_NOT_JSON');
  }
  const bytes = Buffer.byteLength(text);
  // The contract's bound, and the bus's (ORCHESTRA_MAX_VALUE_BYTES, less the outcome's envelope).
  const limit = Math.min(LIMITS.outputBytes, maxValueBytes() - OUTCOME_ENVELOPE_BYTES);
  if (bytes > limit) {
    throw new PluginError(`output is ${bytes} bytes; the limit is ${limit}`, 'OUTPUT_TOO_LARGE');
  }
  // A plain JSON value (the usual case) is kept as is; anything else (a Date, a class instance,
  // undefined inside) becomes what its JSON text says, as the outcome will carry it.
  // isJsonValue bounds the depth as depthExceeding does, so only the re-parsed value needs the walk.
  if (isJsonValue(output ?? null, LIMITS.jsonDepth)) return (output ?? null) as JsonValue;
  const value: unknown = JSON.parse(text);
  const deep = depthExceeding(value, LIMITS.jsonDepth, 'output');
  if (deep) {
    throw new PluginError(
      `output nests deeper than ${LIMITS.jsonDepth} levels (at ${deep})`,
      'OUTPUT_TOO_DEEP',
    );
  }
  return value as JsonValue;
}
