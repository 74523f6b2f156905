import type { MessageVerifier } from './handle-message.js';

/**
 * A verifier that requires a message to come on the subject its payload names: an outcome of
 * execution A belongs on `orchestra.outcomes.A`, and is dead-lettered when it comes on B's.
 */
export function onSubjectOf<T>(field: string, expected: (value: T) => string): MessageVerifier<T> {
  return (value, subject) => {
    const wanted = expected(value);
    if (subject === wanted) return undefined;
    return { path: field, message: `the payload's ${field} belongs on ${wanted}, not on ${subject}` };
  };
}
