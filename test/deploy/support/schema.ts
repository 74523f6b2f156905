import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import type { K8sObject } from './render.js';

/**
 * Offline validation against the Kubernetes JSON Schemas (from the API's OpenAPI document) that
 * `kubernetes-models` ships compiled: `new Deployment(object).validate()` checks types, required
 * fields, enums and formats (quantities). Those schemas allow unknown fields, which the API server
 * rejects (kubectl's strict field validation): unknownFields() finds them with the same schemas.
 */
type Model = { validate(): void };
type ModelClass = (new (data: object) => Model) & { prototype: Model };

const MODELS: Record<string, object> = {
  v1: core,
  'apps/v1': apps,
  'policy/v1': policy,
  'autoscaling/v2': autoscaling,
  'batch/v1': batch,
};

function modelOf(object: K8sObject): ModelClass {
  const model = (MODELS[object.apiVersion] as Record<string, ModelClass | undefined> | undefined)?.[
    object.kind
  ];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return model;
}

/** Throws the schema's errors, prefixed with the object's kind and name. */
export function validateSchema(object: K8sObject): void {
  const model = modelOf(object);
  try {
    new model(object).validate();
  } catch (error) {
    throw new Error(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
  }
}

/**
 * The paths of the fields that the object's schema does not declare, e.g. `spec.template.spec.foo`
 * (for an object the schema accepts). The schema's validator reads every property the schema
 * declares, and every entry of a map: it runs over a view of the object that records what it
 * reads, and whatever it never read is a field the schema does not know.
 */
export function unknownFields(object: K8sObject): string[] {
  const read = new Set<string>();
  modelOf(object).prototype.validate.call(recording(object, '', read) as Model);
  const found: string[] = [];
  collectUnread(object, '', read, found);
  return found;
}

function recording(value: unknown, path: string, read: Set<string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const property = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return property;
      const at = pathOf(target, path, key);
      read.add(at);
      return recording(property, at, read);
    },
  });
}

function collectUnread(value: unknown, path: string, read: Set<string>, found: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    const at = pathOf(value, path, key);
    if (read.has(at)) collectUnread((value as Record<string, unknown>)[key], at, read, found);
    else found.push(at);
  }
}

function pathOf(container: object, path: string, key: string): string {
  if (Array.isArray(container)) return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}
