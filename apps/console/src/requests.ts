import { HttpException } from '@nestjs/common';
import { ExecutionId, ExecutionStatus, formatPath, type Issue, LIMITS, TaskPath } from '@orchestra/contracts';
import { z } from 'zod';
import type { ApiError } from './model/api-types.js';

/** What the JSON API accepts, checked with zod before anything else looks at it. */

export const ListQuery = z.strictObject({
  status: z
    .string()
    .max(200)
    .optional()
    .transform((value) => (value ? value.split(',').filter(Boolean) : []))
    .pipe(z.array(ExecutionStatus)),
  plan: z.string().max(128).optional(),
  plugin: z.string().max(128).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(200).optional(),
});

export const AfterQuery = z.strictObject({ after: z.string().max(20).optional() });

export const CancelBody = z.strictObject({ reason: z.string().max(1000).optional() });

/** Re-run from failure: tasks to run again although they succeeded (`phase_id.task_id`). */
export const RerunBody = z.strictObject({
  tasks: z.array(TaskPath).max(LIMITS.tasks).optional(),
  execution_id: ExecutionId.optional(),
});

/** A plan as pasted: YAML or JSON text, parsed and validated by the contracts' parsePlan. */
export const PlanBody = z.strictObject({
  text: z.string().max(5 * 1024 * 1024),
  execution_id: ExecutionId.optional(),
});

export function parseRequest<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  throw apiError(400, 'VALIDATION', `invalid ${what}`, issues);
}

export function executionIdParam(id: string): string {
  return parseRequest(ExecutionId, id, 'execution id');
}

export function apiError(status: number, code: string, message: string, issues?: Issue[]): HttpException {
  const body: ApiError = { error: { code, message, ...(issues ? { issues } : {}) } };
  return new HttpException(body, status);
}
