import {
  CancelExecution,
  DispatchTask,
  EventRecord,
  ExecutePlan,
  Plan,
  TaskOutcome,
  validatePlan,
} from '@orchestra/contracts';
import type { z } from 'zod';
import { bytesOf, loadMessageCases, type MessageCase } from '../corpus/messages.js';
import { SchemaValidators, schemaFileForSubject } from './ajv.js';
import { loadPlanDocuments } from './plan-documents.js';

/**
 * The bad-input corpus (test/corpus) through the published JSON Schemas and ajv, an independent
 * validator: every message the contract accepts is accepted, every one it refuses is refused,
 * except where the rule is one JSON Schema cannot state. Those cases are listed here, each with
 * its rule, and docs/workers.md lists the rules ("What only Orchestra checks").
 */
const ZOD_CONTRACT: Record<string, z.ZodType> = {
  'execute-plan.schema.json': ExecutePlan,
  'cancel-execution.schema.json': CancelExecution,
  'dispatch-task.schema.json': DispatchTask,
  'task-outcome.schema.json': TaskOutcome,
  'event-record.schema.json': EventRecord,
};

/** Cases zod refuses and a JSON Schema cannot: the rule each one breaks. */
const ZOD_ONLY_MESSAGES: Record<string, string> = {
  'event--deep-nesting.json': 'nesting depth (256 levels per message)',
  'outcome--deep-output.json': 'nesting depth (256 levels per message)',
  'outcome--output-over-limit.json': 'output size (32 MiB as JSON)',
  'task--deep-input.json': 'nesting depth (256 levels per message)',
};

/** Subjects with no published schema: Orchestra's own traffic, not a worker's or a client's. */
const UNPUBLISHED_CATEGORIES = new Set(['timer', 'api', 'control', 'commands']);

const validators = new SchemaValidators();
const cases = loadMessageCases();
/** How each case went: both accept, both refuse, only zod refuses, not JSON. */
const tally = { accepted: 0, refused: 0, zodOnly: 0, notJson: 0 };

function jsonOf(c: MessageCase): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytesOf(c))) };
  } catch {
    return { ok: false };
  }
}

describe('the message corpus through the JSON Schemas (ajv)', () => {
  const covered = cases.filter((c) => schemaFileForSubject(c.subject) !== undefined);

  it('covers every case but those on unpublished subjects', () => {
    const uncovered = cases.filter((c) => !covered.includes(c));
    expect(new Set(uncovered.map((c) => c.category))).toEqual(UNPUBLISHED_CATEGORIES);
    expect(covered.length).toBeGreaterThanOrEqual(70);
  });

  it.each(covered.map((c) => [c.file, c] as const))('%s: ajv agrees with the contract', (file, c) => {
    const schemaFile = schemaFileForSubject(c.subject) as string;
    const parsed = jsonOf(c);
    if (!parsed.ok) {
      // Not JSON (or not UTF-8): refused before any schema, by every reader.
      expect(c.expect).toHaveProperty('deadLetter');
      tally.notJson++;
      return;
    }
    const byZod = (ZOD_CONTRACT[schemaFile] as z.ZodType).safeParse(parsed.value).success;
    const byAjv = validators.validate(schemaFile, parsed.value);
    const zodOnly = ZOD_ONLY_MESSAGES[file];
    if (zodOnly !== undefined && byZod) throw new Error(`${file} is listed as zod-only but zod accepts it`);
    if (byZod) {
      if (!byAjv.valid) throw new Error(`${file}: the contract accepts it, ajv refuses:\n${byAjv.errors}`);
    } else if (zodOnly === undefined) {
      if (byAjv.valid) throw new Error(`${file}: the contract refuses it, ajv accepts it`);
    } else {
      // The listed rule is the only thing wrong: the schema must accept it, or the list is stale.
      if (!byAjv.valid) throw new Error(`${file} is listed as zod-only (${zodOnly}) but ajv refuses it`);
    }
    tally[byZod ? 'accepted' : zodOnly === undefined ? 'refused' : 'zodOnly']++;
    // And the corpus agrees: a message refused by its schema is dead-lettered, never handled.
    if (!byZod) expect(c.expect).toHaveProperty('deadLetter');
  });

  it('refuses most of the bad messages by schema alone', () => {
    expect(tally.refused).toBeGreaterThanOrEqual(35);
    expect(tally.accepted).toBeGreaterThanOrEqual(30);
    expect(tally.zodOnly).toBe(Object.keys(ZOD_ONLY_MESSAGES).length);
  });

  it('accepts the plans inside ExecutePlan commands exactly when the plan schema of zod does', () => {
    const checked: string[] = [];
    for (const c of covered.filter((c) => c.subject === 'orchestra.cmd.execute')) {
      const parsed = jsonOf(c);
      if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) continue;
      const plan = (parsed.value as { plan?: unknown }).plan;
      if (plan === undefined) continue;
      const byZod = Plan.safeParse(plan).success;
      const byAjv = validators.validate('plan.schema.json', plan);
      if (byZod !== byAjv.valid) {
        throw new Error(`${c.file}: zod says ${byZod}, ajv says ${byAjv.valid}\n${byAjv.errors}`);
      }
      checked.push(c.file);
    }
    expect(checked.length).toBeGreaterThanOrEqual(10);
  });
});

/**
 * Plan categories whose rules only validatePlan checks (it runs after the schema): unique ids,
 * known dependencies, acyclic graphs, references to tasks certain to finish first, size bounds
 * counted in bytes or over the whole plan.
 */
const SEMANTIC_CATEGORIES = new Set(['cycle', 'dangling', 'duplicate', 'injection', 'huge', 'invalid']);
/** Categories refused while reading the document: YAML/JSON syntax, aliases, size, depth. */
const DOCUMENT_CATEGORIES = new Set(['malformed', 'bomb', 'huge', 'deep']);

describe('plans through plan.schema.json (ajv)', () => {
  const documents = loadPlanDocuments();

  it.each(documents.map((d) => [d.name, d] as const))('%s', (name, document) => {
    if (!document.parsed.ok) {
      // Refused before any schema could look at it.
      expect(document.valid).toBe(false);
      expect(DOCUMENT_CATEGORIES).toContain(document.category);
      return;
    }
    const value = document.parsed.value;
    const byZod = Plan.safeParse(value).success;
    const byAjv = validators.validate('plan.schema.json', value);
    if (byZod !== byAjv.valid) {
      throw new Error(
        `${name}: the plan schema of zod says ${byZod}, ajv says ${byAjv.valid}\n${byAjv.errors}`,
      );
    }
    const valid = validatePlan(value).ok;
    expect(valid).toBe(document.valid);
    // Valid by the schema yet refused: only for rules a schema cannot state.
    if (byAjv.valid && !valid) expect(SEMANTIC_CATEGORIES).toContain(document.category);
  });

  it('includes the valid examples and most of the bad-plan corpus', () => {
    expect(documents.filter((d) => d.valid).length).toBeGreaterThanOrEqual(4);
    expect(documents.filter((d) => !d.valid).length).toBeGreaterThanOrEqual(60);
  });
});
