import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The committed JSON Schemas (schemas/), read from disk and compiled by ajv: an independent
 * validator, as a worker in another language would use them. Nothing here imports zod.
 */
export const SCHEMAS_DIR = join(__dirname, '../../schemas');

/** Every `*.schema.json` under schemas/, by its path relative to that directory. */
export function readSchemaFiles(): Map<string, Record<string, unknown>> {
  const files = new Map<string, Record<string, unknown>>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.schema.json'))
        files.set(relative(SCHEMAS_DIR, path), JSON.parse(readFileSync(path, 'utf8')));
    }
  };
  walk(SCHEMAS_DIR);
  return files;
}

export interface SchemaVerdict {
  valid: boolean;
  /** ajv's errors, one line each, when invalid. */
  errors: string;
}

export class SchemaValidators {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(files = readSchemaFiles()) {
    // strict: an unknown keyword or a type mismatch in a schema is an error, not ignored.
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    for (const [file, schema] of files) this.validators.set(file, ajv.compile(schema));
  }

  validate(file: string, value: unknown): SchemaVerdict {
    const validator = this.validators.get(file);
    if (!validator) throw new Error(`no schema ${file} in schemas/`);
    const valid = validator(value) as boolean;
    const errors = (validator.errors ?? [])
      .map((error) => `${error.instancePath || '(root)'} ${error.message ?? error.keyword}`)
      .join('\n');
    return { valid, errors };
  }
}

/**
 * The schema of what is published on `subject`, for the subjects a foreign worker or client
 * reads or writes; undefined for the others (timers, API requests, control notices).
 */
export function schemaFileForSubject(subject: string): string | undefined {
  if (subject === 'orchestra.cmd.execute') return 'execute-plan.schema.json';
  if (subject === 'orchestra.cmd.cancel') return 'cancel-execution.schema.json';
  if (subject.startsWith('orchestra.tasks.')) return 'dispatch-task.schema.json';
  if (subject.startsWith('orchestra.outcomes.')) return 'task-outcome.schema.json';
  if (subject.startsWith('orchestra.events.')) return 'event-record.schema.json';
  return undefined;
}
