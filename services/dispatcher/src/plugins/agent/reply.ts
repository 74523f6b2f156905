import { type JsonValue, LIMITS } from '@orchestra/contracts';
import type { ValidateFunction } from 'ajv';
import { PluginError } from '../../plugin.js';
import { schemaProblems } from '../json-schema.js';
import { excerpt, UpstreamCodes } from '../upstream.js';

export const ReplyCodes = {
  /** A schema was given and the reply is not JSON. */
  notJson: 'REPLY_NOT_JSON',
  /** A schema was given and the reply's JSON does not match it. */
  schemaMismatch: 'REPLY_SCHEMA_MISMATCH',
} as const;

/**
 * A model's reply as the task's output. With a schema, the reply must be JSON matching it.
 * Without one, a reply that is a JSON object or array (alone, or alone in one ```json fence) is
 * that value, and anything else is `{ text }`.
 */
export function outputOfReply(text: string, validate: ValidateFunction | undefined): JsonValue {
  if (text.trim() === '') throw new PluginError('the model replied with no text', UpstreamCodes.emptyReply);
  // Checked before parsing, so a huge reply is not parsed only to be refused by the runner.
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.outputBytes) {
    throw new PluginError(
      `the model's reply is ${bytes} bytes; the limit is ${LIMITS.outputBytes}`,
      'OUTPUT_TOO_LARGE',
    );
  }
  const json = parseJsonReply(text);
  if (!validate) return json !== undefined && typeof json === 'object' && json !== null ? json : { text };
  if (json === undefined) {
    throw new PluginError(
      `the reply is not JSON, and the plugin requires JSON: ${excerpt(text, 160)}`,
      ReplyCodes.notJson,
    );
  }
  if (!validate(json)) {
    throw new PluginError(
      `the reply does not match the output schema: ${schemaProblems(validate)}`,
      ReplyCodes.schemaMismatch,
    );
  }
  return json;
}

const FENCED = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/;

function parseJsonReply(text: string): JsonValue | undefined {
  const trimmed = text.trim();
  const body = FENCED.exec(trimmed)?.[1] ?? trimmed;
  try {
    return JSON.parse(body) as JsonValue;
  } catch {
    return undefined;
  }
}
