import { depthExceeding, type JsonValue, LIMITS } from '@orchestra/contracts';
import { PluginError } from './plugin.js';

/**
 * A plugin's return value as the outcome's output: a JSON value within the limits every outcome
 * is held to (README, Plans: 512 KiB, nesting depth 64). Anything else fails the attempt with a
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
  if (bytes > LIMITS.outputBytes) {
    throw new PluginError(`output is ${bytes} bytes; the limit is ${LIMITS.outputBytes}`, 'OUTPUT_TOO_LARGE');
  }
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
