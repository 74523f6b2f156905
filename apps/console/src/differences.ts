import { isDeepStrictEqual } from 'node:util';

/**
 * Paths where two JSON values differ (`phases[1].tasks[0].status`), depth first, at most
 * `limit`: what the replay check shows when stored and recomputed results disagree.
 */
export function differences(a: unknown, b: unknown, limit: number, path = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  const bothObjects = isObject(a) && isObject(b);
  if (!bothArrays && !bothObjects) return [path || '(root)'];
  const found: string[] = [];
  const keys = bothArrays
    ? Array.from({ length: Math.max((a as unknown[]).length, (b as unknown[]).length) }, (_, i) => i)
    : [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
  for (const key of keys) {
    if (found.length >= limit) break;
    const child = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const left = (a as Record<string | number, unknown>)[key];
    const right = (b as Record<string | number, unknown>)[key];
    found.push(...differences(left, right, limit - found.length, child));
  }
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
