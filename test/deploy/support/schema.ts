import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import type { K8sObject } from './render.js';

/**
 * Offline validation against the Kubernetes OpenAPI schemas, with the models of `kubernetes-models`:
 * `new Deployment(object).validate()` checks types, required fields, enums and formats (quantities).
 * Those schemas allow unknown fields, which the API server rejects (kubectl's strict field
 * validation): unknownFields() finds them from the same package's type declarations.
 */
type ModelClass = new (data: object) => { validate(): void };

const MODULES: Record<string, { path: string; models: object }> = {
  v1: { path: 'v1', models: core },
  'apps/v1': { path: 'apps/v1', models: apps },
  'policy/v1': { path: 'policy/v1', models: policy },
  'autoscaling/v2': { path: 'autoscaling/v2', models: autoscaling },
};

function moduleOf(object: K8sObject): { path: string; model: ModelClass } {
  const module = MODULES[object.apiVersion];
  const model = module && (module.models as Record<string, ModelClass | undefined>)[object.kind];
  if (!module || !model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return { path: module.path, model };
}

/** Throws the schema's errors, prefixed with the object's kind and name. */
export function validateSchema(object: K8sObject): void {
  const { model } = moduleOf(object);
  try {
    new model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
  }
}

type Shape =
  | { type: 'object'; file: string }
  | { type: 'array'; of: Shape }
  | { type: 'map'; of: Shape }
  | { type: 'leaf' };

const PACKAGE_DIR = resolve(dirname(require.resolve('kubernetes-models/v1')), '..');

/** The paths of the fields that the object's type does not declare, e.g. `spec.template.spec.foo`. */
export function unknownFields(object: K8sObject): string[] {
  const file = join(PACKAGE_DIR, moduleOf(object).path, `${object.kind}.d.ts`);
  const found: string[] = [];
  walk(object, { type: 'object', file }, '', found);
  return found;
}

function walk(value: unknown, shape: Shape, path: string, found: string[]): void {
  if (shape.type === 'array' && Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, shape.of, `${path}[${index}]`, found);
  } else if (shape.type === 'map' && isRecord(value)) {
    for (const [key, item] of Object.entries(value)) walk(item, shape.of, `${path}.${key}`, found);
  } else if (shape.type === 'object' && isRecord(value)) {
    const fields = fieldsOf(shape.file);
    if (!fields) return;
    for (const [key, item] of Object.entries(value)) {
      const field = fields.get(key);
      const at = path ? `${path}.${key}` : key;
      if (field) walk(item, field, at, found);
      else found.push(at);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const declarations = new Map<string, Map<string, Shape> | undefined>();

/** The fields of the interface a `.d.ts` file declares; undefined for a type alias (a leaf). */
function fieldsOf(file: string): Map<string, Shape> | undefined {
  if (declarations.has(file)) return declarations.get(file);
  const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  for (const [, names = '', from = ''] of source.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of names.split(',')) imports.set(name.trim(), from);
  }
  const body = /export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)\n\}/.exec(source)?.[1];
  const fields = body === undefined ? undefined : new Map<string, Shape>();
  for (const entry of body === undefined ? [] : topLevelEntries(body)) {
    const match = /^"([^"]+)"\??:\s*([\s\S]+)$/.exec(entry);
    if (!match?.[1] || !match[2]) throw new Error(`${file}: cannot read the field ${entry}`);
    fields?.set(match[1], shapeOf(match[2].trim(), imports, file));
  }
  declarations.set(file, fields);
  return fields;
}

/** Splits an interface body at the semicolons that are not inside a nested type. */
function topLevelEntries(body: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of body) {
    if (char === '{' || char === '<' || char === '(') depth++;
    if (char === '}' || char === '>' || char === ')') depth--;
    if (char === ';' && depth === 0) {
      entries.push(current.trim());
      current = '';
    } else current += char;
  }
  return entries.filter(Boolean);
}

function shapeOf(type: string, imports: Map<string, string>, file: string): Shape {
  const array = /^Array<([\s\S]+)>$/.exec(type)?.[1];
  if (array) return { type: 'array', of: shapeOf(array.trim(), imports, file) };
  const map = /^\{\s*\[key: string\]:\s*([\s\S]+?);?\s*\}$/.exec(type)?.[1];
  if (map) return { type: 'map', of: shapeOf(map.trim(), imports, file) };
  const from = imports.get(type);
  return from ? { type: 'object', file: declarationPath(from, file) } : { type: 'leaf' };
}

function declarationPath(from: string, file: string): string {
  const candidates = from.startsWith('.')
    ? [resolve(dirname(file), `${from}.d.ts`)]
    : [join(PACKAGE_DIR, 'node_modules', `${from}.d.ts`), join(PACKAGE_DIR, '..', `${from}.d.ts`)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${file}: cannot find the declaration of ${from}`);
  return found;
}
