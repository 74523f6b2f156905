import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '../../..');

const KUBECTL_HINT =
  'kubectl was not found on PATH: install it with `apt-get install -y kubernetes-client` ' +
  "(Debian's kubectl, whose built-in kustomize renders deploy/k8s offline)";

/** A rendered Kubernetes object: only what every object has is typed here. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** `kubectl kustomize <dir>` (relative to the repository, or absolute), parsed: every object, in order. */
export function kustomize(dir: string): K8sObject[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', resolve(REPO_ROOT, dir)], {
      encoding: 'utf8',
      // kustomize v5 warns on stderr about the v2-compatible fields (bases, patchesStrategicMerge).
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new Error(KUBECTL_HINT);
    throw new Error(`kubectl kustomize ${dir} failed: ${failure.stderr ?? failure.message}`);
  }
  return (parseYamlStream(output, dir) as K8sObject[]).map(unwrapSecretData);
}

/**
 * kustomize v2 (Debian's kubectl 1.20) wraps a Secret's base64 values at 70 characters; the API
 * server's base64 decoder skips the newlines, so the value is the same one it stores.
 */
function unwrapSecretData(object: K8sObject): K8sObject {
  const data = (object as { data?: Record<string, string> }).data;
  if (object.kind !== 'Secret' || !data) return object;
  const unwrapped = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, value.replace(/\s/g, '')]),
  );
  return { ...object, data: unwrapped } as K8sObject;
}

/** Every document of a YAML stream as plain data; a syntax error fails with the source's name. */
export function parseYamlStream(text: string, source: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).flatMap((document) => {
    const [error] = document.errors;
    if (error) throw new Error(`${source}: ${error.message}`);
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    return value === null || value === undefined ? [] : [value];
  });
}

/** A file of the repository, parsed as one YAML document (YAML merge keys `<<:` resolved). */
export function readYaml(path: string): unknown {
  const [document, ...rest] = parseYamlStream(readFileSync(join(REPO_ROOT, path), 'utf8'), path);
  if (rest.length > 0) throw new Error(`${path}: one YAML document expected`);
  return document;
}

/** The objects of one kind; `name` narrows to one object, which must exist. */
export function ofKind<T>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as unknown as T[];
}

export function named<T>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the rendering`);
  return found as unknown as T;
}

/** A generated ConfigMap or Secret keeps its name as a prefix, before kustomize's hash suffix. */
export function generated<T>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.filter(
    (object) => object.kind === kind && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(object.metadata.name),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}(-hash), found ${found.length}`);
  return found[0] as unknown as T;
}

/** Whether a label selector's matchLabels all appear among the labels. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}
