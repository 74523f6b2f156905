import { parseDocument } from 'yaml';
import type { Issue } from './errors.js';
import { LIMITS } from './limits.js';
import { type PlanValidation, validatePlan } from './validate.js';

export type PlanFormat = 'yaml' | 'json';

/**
 * Parses a plan document (YAML or JSON, detected from its first character unless given) and
 * validates it. Never throws: every problem comes back as an issue with a path and a sentence.
 * Size, YAML aliases and nesting depth are bounded before the plan is looked at.
 */
export function parsePlan(text: string, format?: PlanFormat): PlanValidation {
  const document = parseDocumentText(text, format);
  if (!document.ok) return document;
  return validatePlan(document.value);
}

export type DocumentParse = { ok: true; value: unknown } | { ok: false; issues: Issue[] };

export function parseDocumentText(text: string, format?: PlanFormat): DocumentParse {
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.planBytes) {
    return fail(`the document is ${bytes} bytes; the limit is ${LIMITS.planBytes}`);
  }
  const trimmed = text.trimStart();
  if (trimmed === '') return fail('the document is empty');
  const detected = format ?? (trimmed.startsWith('{') || trimmed.startsWith('[') ? 'json' : 'yaml');
  const parsed = detected === 'json' ? parseJson(text) : parseYaml(text);
  if (!parsed.ok) return parsed;
  const depth = depthExceeding(parsed.value, LIMITS.jsonDepth);
  if (depth) return fail(`the document nests deeper than ${LIMITS.jsonDepth} levels (at ${depth})`);
  return parsed;
}

function parseJson(text: string): DocumentParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return fail(`invalid JSON: ${(error as Error).message}`);
  }
}

function parseYaml(text: string): DocumentParse {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      issues: document.errors.map((error) => ({
        path: '(root)',
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: LIMITS.yamlAliases }) };
  } catch (error) {
    return fail(`invalid YAML: ${(error as Error).message} (aliases are limited to ${LIMITS.yamlAliases})`);
  }
}

/** Returns the path of the first value nested deeper than `limit`, iteratively (no stack overflow). */
function depthExceeding(value: unknown, limit: number): string | undefined {
  const pending: Array<{ value: unknown; depth: number; path: string }> = [
    { value, depth: 0, path: '(root)' },
  ];
  while (pending.length > 0) {
    const item = pending.pop() as { value: unknown; depth: number; path: string };
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= limit) return item.path;
    for (const [key, child] of Object.entries(item.value)) {
      const path = Array.isArray(item.value) ? `${item.path}[${key}]` : `${item.path}.${key}`;
      pending.push({ value: child, depth: item.depth + 1, path });
    }
  }
  return undefined;
}

function fail(message: string): DocumentParse & { ok: false } {
  return { ok: false, issues: [{ path: '(root)', message }] };
}
