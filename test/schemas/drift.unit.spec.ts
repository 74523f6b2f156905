import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionEventContract, jsonSchemaFiles, jsonSchemaIndex } from '@orchestra/contracts';
import { readSchemaFiles, SCHEMAS_DIR, SchemaValidators } from './ajv.js';

/**
 * schemas/ is what workers in other languages build on: it must say exactly what the zod
 * contracts say. When this fails, run `npm run schemas` and commit the result.
 */
const generated = jsonSchemaFiles();
const HINT = 'schemas/ differs from the zod contracts: run `npm run schemas` and commit schemas/';

describe('the published JSON Schemas', () => {
  it.each(generated.map((file) => [file.file, file] as const))('%s is what zod generates', (file, source) => {
    const onDisk = readFileSync(join(SCHEMAS_DIR, file), 'utf8');
    const expected = `${JSON.stringify(source.schema, null, 2)}\n`;
    if (onDisk !== expected) throw new Error(`${HINT} (${file})`);
  });

  it('has no file that no contract generates', () => {
    const extra = [...readSchemaFiles().keys()].filter((file) => !generated.some((g) => g.file === file));
    if (extra.length > 0) throw new Error(`${HINT}: ${extra.join(', ')} no longer generated`);
  });

  it('has an index listing every file', () => {
    const index = readFileSync(join(SCHEMAS_DIR, 'README.md'), 'utf8');
    if (index !== jsonSchemaIndex(generated)) throw new Error(`${HINT} (README.md)`);
    for (const { file } of generated) expect(index).toContain(`[${file}](${file})`);
  });

  it('gives every file a distinct $id, a title and draft 2020-12', () => {
    const ids = generated.map(({ schema }) => schema.$id);
    expect(new Set(ids).size).toBe(generated.length);
    for (const { schema } of generated) {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toMatch(/^urn:orchestra:schema:[a-z-]+(:[A-Za-z]+)?$/);
      expect(typeof schema.title).toBe('string');
    }
  });

  it('covers every message a foreign worker or client touches', () => {
    expect(generated.map(({ title }) => title)).toEqual(
      expect.arrayContaining([
        'ExecutePlan',
        'CancelExecution',
        'Plan',
        'DispatchTask',
        'TaskOutcome',
        'EventRecord',
        'ExecutionEvent',
        'ExecutionResults',
        'TaskSucceeded',
        'ExecutionFinished',
      ]),
    );
    expect(generated.filter(({ file }) => file.startsWith('events/'))).toHaveLength(
      ExecutionEventContract.options.length,
    );
  });

  it('compiles in ajv strict mode (no unknown keyword, no ambiguous type)', () => {
    expect(() => new SchemaValidators()).not.toThrow();
  });
});
