/**
 * References `${<phase_id>.<task_id>.output[.path]}` inside input_context strings. This module
 * only finds and parses them; resolving them against outputs is the decider's job. Nothing in a
 * reference is ever evaluated: a path is a list of plain keys and array indexes.
 */
export interface Reference {
  /** The text as written, `${...}` included. */
  raw: string;
  phase_id: string;
  task_id: string;
  /** Keys and indexes after `output`. */
  path: string[];
}

/** A `${...}` occurrence: the body may be malformed; `parseReferenceBody` says why. */
const OCCURRENCE = /\$\{([^}]*)\}/g;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Keys that reach an object's prototype rather than its own data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

export type ReferenceParse = { ok: true; reference: Reference } | { ok: false; raw: string; message: string };

export function parseReferenceBody(body: string): ReferenceParse {
  const raw = `\${${body}}`;
  const parts = body.split('.');
  if (parts.length < 3 || parts[2] !== 'output') {
    return {
      ok: false,
      raw,
      message: `reference ${raw} must look like \${<phase_id>.<task_id>.output[.path]}`,
    };
  }
  for (const part of parts) {
    if (!SEGMENT.test(part)) {
      return {
        ok: false,
        raw,
        message: `reference ${raw} has an empty or invalid segment ${JSON.stringify(part)}`,
      };
    }
    if (FORBIDDEN_SEGMENTS.has(part)) {
      return { ok: false, raw, message: `reference ${raw} may not use the segment "${part}"` };
    }
  }
  const [phase_id = '', task_id = ''] = parts;
  return { ok: true, reference: { raw, phase_id, task_id, path: parts.slice(3) } };
}

/** Every `${...}` in one string, in order; a `${` never closed is reported as malformed too. */
export function referencesInString(text: string): ReferenceParse[] {
  if (!text.includes('${')) return [];
  const found = [...text.matchAll(OCCURRENCE)].map((match) => parseReferenceBody(match[1] ?? ''));
  const rest = text.replace(OCCURRENCE, '');
  const unclosed = rest.indexOf('${');
  if (unclosed >= 0) {
    const raw = rest.slice(unclosed, unclosed + 64);
    found.push({ ok: false, raw, message: `reference ${raw} is not closed with "}"` });
  }
  return found;
}

/** A string that is exactly one reference takes the referenced value as is (not its JSON text). */
export function wholeReference(text: string): string | undefined {
  const match = /^\$\{([^}]*)\}$/.exec(text);
  return match ? match[1] : undefined;
}

export const REFERENCE_OCCURRENCE = OCCURRENCE;

/** Visits every string in a JSON value with its path (`input_context.prior`, `input_context.list[2]`). */
export function forEachString(
  value: unknown,
  path: string,
  visit: (text: string, path: string) => void,
): void {
  if (typeof value === 'string') {
    visit(value, path);
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) forEachString(item, `${path}[${index}]`, visit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) forEachString(item, `${path}.${key}`, visit);
  }
}
