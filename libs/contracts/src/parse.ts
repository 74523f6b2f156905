import { parseDocument } from 'yaml';
import type { Issue } from './errors.js';
import { depthExceeding } from './json.js';
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
  // The parser is recursive: a deep enough flow collection overflows its stack (once per level).
  if (document.errors.some((error) => error.message.includes(STACK_OVERFLOW))) return tooDeep();
  // An unknown tag (`!env HOME`, `!!js/function`) is a warning for the parser; it must not
  // silently turn into a plain string here.
  const problems = [...document.errors, ...document.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')];
  if (problems.length > 0) {
    return {
      ok: false,
      issues: problems.map((error) => ({
        path: '(root)',
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: LIMITS.yamlAliases }) };
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(STACK_OVERFLOW)) return tooDeep();
    const aliases = /alias/i.test(message) ? ` (aliases are limited to ${LIMITS.yamlAliases})` : '';
    return fail(`invalid YAML: ${message}${aliases}`);
  }
}

const STACK_OVERFLOW = 'Maximum call stack size exceeded';

function tooDeep(): DocumentParse & { ok: false } {
  return fail(`the document nests deeper than ${LIMITS.jsonDepth} levels (too deep to parse)`);
}

function fail(message: string): DocumentParse & { ok: false } {
  return { ok: false, issues: [{ path: '(root)', message }] };
}
