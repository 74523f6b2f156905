import { distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { formatPath, type Issue } from './errors.js';

/**
 * The plan's fields as its schema declares them: the nearest one for an unknown key, and the
 * order issues are listed in.
 */

/**
 * One issue per unknown key of a strict object, at the key's own path, naming the nearest field
 * the object has (`retires` -> did you mean `retries`?), or every field it has when none is near.
 */
export function unknownFieldIssues(
  root: z.ZodType,
  objectPath: readonly PropertyKey[],
  keys: string[],
): Issue[] {
  const fields = fieldsAt(root, objectPath);
  return keys.map((key) => ({
    path: formatPath([...objectPath, key]),
    message: unknownFieldMessage(key, fields),
  }));
}

export function unknownFieldMessage(key: string, fields: readonly string[]): string {
  const near = nearestField(key, fields);
  if (near) return `unknown field "${key}"; did you mean "${near}"?`;
  return fields.length > 0
    ? `unknown field "${key}"; the fields here are ${fields.join(', ')}`
    : `unknown field "${key}"`;
}

/**
 * The field a mistyped key most likely meant, the closest by edit distance among those near
 * enough: within a third of the key's length (at least 2: `retires` -> `retries`), or sharing its
 * first four letters (`retry` -> `retries`), or containing it or contained in it (`timeout` ->
 * `timeout_ms`, `mode` -> `execution_mode`).
 */
export function nearestField(key: string, fields: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { field: string; score: number } | undefined;
  for (const field of fields) {
    const edits = distance(lower, field);
    const related =
      lower.length >= 4 &&
      (field.includes(lower) || lower.includes(field) || field.slice(0, 4) === lower.slice(0, 4));
    if (edits > Math.max(2, Math.floor(lower.length / 3)) && !related) continue;
    if (!best || edits < best.score) best = { field, score: edits };
  }
  return best?.field;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The fields of the object schema found by walking `path` down from `root` ([] when none). */
function fieldsAt(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = unwrap(root);
  for (const segment of path) {
    schema = schema && child(schema, segment);
  }
  return schema ? fieldsOf(schema) : [];
}

const FIELDS = new WeakMap<z.ZodType, string[]>();

function fieldsOf(schema: z.ZodType): string[] {
  let fields = FIELDS.get(schema);
  if (!fields) {
    const def = defOf(schema);
    fields = def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    FIELDS.set(schema, fields);
  }
  return fields;
}

/** The schema of one field or element, unwrapped; undefined past the schema (inside input_context). */
function child(schema: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  const def = defOf(schema);
  // Own fields only: a key such as `__proto__` must not reach the shape's prototype.
  const key = String(segment);
  const field = def.shape && Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
  const next = def.type === 'object' ? field : def.type === 'array' ? def.element : undefined;
  return next && unwrap(next);
}

/**
 * Keys that order issue paths as the plan reads, by plain string comparison: `(root)` and
 * `(file)` first, fields in the order the schema declares them (`plan_id` before `phases`,
 * `task_id` before `retries`), unknown and free-form keys after them alphabetically, indexes as
 * numbers (`phases[2]` before `phases[10]`). A plan at the limits can have tens of thousands of
 * issues at a few shapes of path (`phases[i].tasks[j].input_context.x`): the schema is walked
 * once per shape, the indexes filled in per issue.
 */
export function pathKeyer(root: z.ZodType): (path: string) => string {
  const shapes = new Map<string, Array<string | null>>();
  return (path) => {
    if (path.startsWith('(')) return '';
    const indexes: string[] = [];
    const shape = path.replace(/\[(\d+)\]/g, (_match, index: string) => {
      indexes.push(index.padStart(10, '0'));
      return '[0]';
    });
    let parts = shapes.get(shape);
    if (!parts) {
      parts = shapeKeyParts(root, shape);
      shapes.set(shape, parts);
    }
    let key = '';
    let next = 0;
    for (const part of parts) key += part ?? `\u00000${indexes[next++]}`;
    return key;
  };
}

/** The key of each segment of a path, null where an index goes. */
function shapeKeyParts(root: z.ZodType, shape: string): Array<string | null> {
  let schema: z.ZodType | undefined = unwrap(root);
  return pathSegments(shape).map((segment) => {
    const fields = schema ? fieldsOf(schema) : [];
    schema = schema && child(schema, segment);
    if (typeof segment === 'number') return null;
    const rank = fields.indexOf(segment);
    return `\u00001${String(rank < 0 ? fields.length : rank).padStart(4, '0')}${segment}`;
  });
}

/** `phases[2].tasks[0].retries` -> ['phases', 2, 'tasks', 0, 'retries']; `(root)` -> []. */
function pathSegments(path: string): Array<string | number> {
  if (path.startsWith('(')) return [];
  const segments: Array<string | number> = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    const char = path[i];
    if (i < path.length && char !== '.' && char !== '[' && char !== ']') continue;
    const text = path.slice(start, i);
    if (text !== '') segments.push(path[start - 1] === '[' && char === ']' ? Number(text) : text);
    start = i + 1;
  }
  return segments;
}

/** Through `.default()`, `.optional()` and the like to the schema that has the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
  return current;
}
