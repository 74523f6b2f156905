import type { z } from 'zod';
import { formatPath, type Issue, ValidationError } from './errors.js';
import { Plan } from './plan.js';
import { planIssues } from './plan-checks.js';
import { pathKeyer, unknownFieldIssues } from './plan-fields.js';
import { planView } from './plan-view.js';

export type PlanValidation = { ok: true; plan: Plan } | { ok: false; issues: Issue[] };

/**
 * Validates a plan object and lists every problem of every kind in one pass, sorted by path:
 * its shape (zod: types, bounds, unknown fields with the nearest known one), and what a shape
 * cannot say (plan-checks.ts: unique ids, known dependencies, acyclic graphs, references to tasks
 * certain to finish first, sizes), read leniently when the shape is wrong.
 */
export function validatePlan(value: unknown): PlanValidation {
  const shape = Plan.safeParse(value, { error: missingField });
  const view = shape.success ? shape.data : planView(value);
  const issues = [...(shape.success ? [] : planShapeIssues(shape.error)), ...(view ? planIssues(view) : [])];
  if (shape.success && issues.length === 0) return { ok: true, plan: shape.data };
  return { ok: false, issues: sortByPath(issues) };
}

/** zod says "expected string, received undefined" for an absent field; say what it means. */
const missingField: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined
    ? `missing required field (expected ${issue.expected})`
    : undefined;

export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** A plan's zod issues; an unknown key is reported at its own path with the nearest field. */
function planShapeIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? unknownFieldIssues(Plan, issue.path, issue.keys)
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}

/** Issues in the order the plan reads (pathKeyer); issues at one path keep their order. */
export function sortByPath(issues: readonly Issue[]): Issue[] {
  const keyOf = pathKeyer(Plan);
  return issues
    .map((issue, order) => ({ issue, order, key: keyOf(issue.path) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.order - b.order))
    .map(({ issue }) => issue);
}

/** Parses a boundary value with a zod schema, or throws a ValidationError naming every field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid ${what}`, zodIssues(parsed.error));
  return parsed.data;
}
