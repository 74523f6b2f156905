/**
 * Returns the path of the first value nested deeper than `limit` (`(root).a[0]`), or undefined.
 * Iterative, so a hostile value cannot overflow the stack, and it never goes below `limit`
 * levels, so it also ends on cyclic values.
 */
export function depthExceeding(value: unknown, limit: number, root = '(root)'): string | undefined {
  // The walk builds no path while it looks (it runs on every message): only the way down to the
  // first level too deep is named, on the way back up. Recursion is at most `limit` deep.
  const trail: string[] = [];
  return tooDeep(value, limit, trail) ? `${root}${trail.reverse().join('')}` : undefined;
}

function tooDeep(value: unknown, remaining: number, trail: string[]): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (remaining <= 0) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (tooDeep(value[index], remaining - 1, trail)) {
        trail.push(`[${index}]`);
        return true;
      }
    }
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && tooDeep((value as Record<string, unknown>)[key], remaining - 1, trail)) {
      trail.push(`.${key}`);
      return true;
    }
  }
  return false;
}

/**
 * Whether `value` is a JSON value — a string, a finite number, a boolean, null, an array or a
 * plain object of JSON values under its own enumerable string keys — with no array or object
 * `depthLimit` levels or more down (`depthExceeding`'s count: the value's own level is 0). What
 * JSON.parse returns always is, up to the bound; a value built in memory may not be (undefined,
 * NaN, a Date, a class instance, a cycle, which the bound ends). Symbol keys are not looked at:
 * JSON text cannot hold one and JSON.stringify leaves them out, and looking costs an allocation
 * per object. Recursion is at most `depthLimit` deep and nothing is allocated: this runs on every
 * input and output of every event read. `jsonValueProblem` says where and why when it is false.
 */
export function isJsonValue(value: unknown, depthLimit: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return value === null || isJsonContainer(value, depthLimit);
    default:
      return false;
  }
}

function isJsonContainer(value: object, depthLimit: number): boolean {
  if (depthLimit <= 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isJsonValue(value[i], depthLimit - 1)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!isJsonValue((value as Record<string, unknown>)[key], depthLimit - 1)) return false;
  }
  return true;
}

/** A plain object: made by a literal, JSON.parse or `Object.create(null)`; not a Date, a Map, a class instance. */
export function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The reason `jsonValueProblem` gives for an array or object below the depth bound. */
export const TOO_DEEP = 'nests too deeply';

/** Where a value stops being a JSON value (path segments below it) and why. */
export interface JsonValueProblem {
  path: Array<string | number>;
  reason: string;
}

/** The first place where `isJsonValue(value, depthLimit)` fails, or undefined when it holds. */
export function jsonValueProblem(value: unknown, depthLimit: number): JsonValueProblem | undefined {
  const path: Array<string | number> = [];
  const reason = problemAt(value, depthLimit, path);
  return reason === undefined ? undefined : { path, reason };
}

function problemAt(value: unknown, levelsLeft: number, path: Array<string | number>): string | undefined {
  if (typeof value !== 'object' || value === null) return isJsonValue(value, 0) ? undefined : notJson(value);
  if (levelsLeft <= 0) return TOO_DEEP;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const reason = problemAt(value[i], levelsLeft - 1, path);
      if (reason !== undefined) return reason;
      path.pop();
    }
    return undefined;
  }
  if (!isPlainObject(value)) return notJson(value);
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    path.push(key);
    const reason = problemAt((value as Record<string, unknown>)[key], levelsLeft - 1, path);
    if (reason !== undefined) return reason;
    path.pop();
  }
  return undefined;
}

function notJson(value: unknown): string {
  return `is ${describe(value)}, not a JSON value (a string, a finite number, a boolean, null, an array or a plain object)`;
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
        ?.name;
      return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object that is not plain';
    }
    default:
      return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
  }
}
