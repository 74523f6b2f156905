import {
  type JsonObject,
  type JsonValue,
  parseReferenceBody,
  REFERENCE_OCCURRENCE,
  type Reference,
  wholeReference,
} from '@orchestra/contracts';

export type OutputLookup = (task_id: string) => JsonValue | undefined;
export type Resolution = { ok: true; value: JsonObject } | { ok: false; reason: string };

class UnresolvedReference extends Error {}

/**
 * Replaces every `${phase.task.output[.path]}` in an input_context. A string that is exactly one
 * reference takes the referenced value as is; a reference inside a longer string is replaced by
 * a string value as is (`cur=${p.t.output.currency}` gives `cur=EUR`) and by any other value's
 * JSON text. Paths are walked over own properties only, so nothing reaches a
 * prototype, and nothing is ever evaluated.
 */
export function resolveInput(input: JsonObject, outputOf: OutputLookup): Resolution {
  try {
    return { ok: true, value: resolveValue(input, outputOf) as JsonObject };
  } catch (error) {
    if (error instanceof UnresolvedReference) return { ok: false, reason: error.message };
    throw error;
  }
}

function resolveValue(value: JsonValue, outputOf: OutputLookup): JsonValue {
  if (typeof value === 'string') return resolveString(value, outputOf);
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, outputOf));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, so a key named "__proto__" stays plain data.
      Object.defineProperty(out, key, {
        value: resolveValue(item, outputOf),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function resolveString(text: string, outputOf: OutputLookup): JsonValue {
  if (!text.includes('${')) return text;
  const whole = wholeReference(text);
  if (whole !== undefined) return lookup(whole, outputOf);
  return text.replace(REFERENCE_OCCURRENCE, (_match, body: string) => {
    const value = lookup(body, outputOf);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

function lookup(body: string, outputOf: OutputLookup): JsonValue {
  const parsed = parseReferenceBody(body);
  if (!parsed.ok) throw new UnresolvedReference(parsed.message);
  const { reference } = parsed;
  const output = outputOf(reference.task_id);
  if (output === undefined) throw new UnresolvedReference(`reference ${reference.raw}: task has no output`);
  return walk(output, reference);
}

function walk(output: JsonValue, reference: Reference): JsonValue {
  let current: JsonValue = output;
  for (const [index, segment] of reference.path.entries()) {
    const next = child(current, segment);
    if (next === undefined) {
      const at = ['output', ...reference.path.slice(0, index)].join('.');
      throw new UnresolvedReference(`reference ${reference.raw}: ${at} has no "${segment}"`);
    }
    current = next;
  }
  return current;
}

function child(value: JsonValue, segment: string): JsonValue | undefined {
  if (Array.isArray(value)) return /^\d+$/.test(segment) ? value[Number(segment)] : undefined;
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) return value[segment];
  return undefined;
}
