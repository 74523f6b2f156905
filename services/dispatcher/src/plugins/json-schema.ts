import { Ajv, type ValidateFunction } from 'ajv';

/**
 * JSON Schemas of agent replies (plugin `output_schema`), compiled once at start-up with ajv.
 * Not strict: a schema written for a provider's structured output may carry keywords ajv does not
 * know (`format` names, descriptions); those are ignored rather than refused.
 */
const ajv = new Ajv({ allErrors: true, strict: false });

export type SchemaCheck = { ok: true; validate: ValidateFunction } | { ok: false; message: string };

export function compileSchema(schema: Record<string, unknown>): SchemaCheck {
  try {
    return { ok: true, validate: ajv.compile(schema) };
  } catch (error) {
    return { ok: false, message: `not a valid JSON Schema: ${(error as Error).message}` };
  }
}

/** The schema's complaints about a value, as one line: `/revenue must be number; ...` (at most 5). */
export function schemaProblems(validate: ValidateFunction): string {
  const errors = validate.errors ?? [];
  const shown = errors
    .slice(0, 5)
    .map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`);
  return errors.length > 5 ? `${shown.join('; ')}; and ${errors.length - 5} more` : shown.join('; ');
}
