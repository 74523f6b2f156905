/**
 * The statuses of an execution's results (`execution_results.status`, README "Plans"), as plain
 * values: the schema in results.ts is built from them, and a web page that cannot load the
 * schemas (browser.ts) lists them from here.
 */
export const EXECUTION_STATUSES = [
  'pending',
  'running',
  'completed',
  'partial',
  'failed',
  'cancelled',
  'rejected',
] as const;
