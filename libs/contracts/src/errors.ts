/** One place where a message or a plan is wrong: `path` like `phases[2].tasks[0].retries`. */
export interface Issue {
  path: string;
  message: string;
}

/** Base of every error Orchestra raises on purpose; `code` is stable and machine-readable. */
export class OrchestraError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OrchestraError';
  }
}

/** Input that can never be accepted: retrying it gives the same answer. */
export class ValidationError extends OrchestraError {
  constructor(
    message: string,
    readonly issues: Issue[] = [],
    options?: { cause?: unknown },
  ) {
    super('VALIDATION', message, options);
    this.name = 'ValidationError';
  }
}

/** Somebody else appended first (expected-last-subject-sequence mismatch): re-read and decide again. */
export class ConcurrencyError extends OrchestraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONCURRENCY', message, options);
    this.name = 'ConcurrencyError';
  }
}

export class NotFoundError extends OrchestraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

export class IllegalStateError extends OrchestraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ILLEGAL_STATE', message, options);
    this.name = 'IllegalStateError';
  }
}

/** Formats a zod-style path (`['phases', 2, 'tasks', 0, 'retries']`) as `phases[2].tasks[0].retries`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}
