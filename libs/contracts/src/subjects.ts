import { ValidationError } from './errors.js';
import { EXECUTION_ID_PATTERN, PLUGIN_PATTERN } from './ids.js';

/**
 * Every subject, stream, bucket and message id of the bus contract. Call sites build subjects
 * only through these helpers, which refuse tokens that would change the subject's meaning.
 */
export const SUBJECT_PREFIX = 'orchestra';

export const Subjects = {
  executeCommand: 'orchestra.cmd.execute',
  cancelCommand: 'orchestra.cmd.cancel',
  rerunCommand: 'orchestra.cmd.rerun',
  repairCommand: 'orchestra.cmd.repair',
  allCommands: 'orchestra.cmd.>',
  allEvents: 'orchestra.events.>',
  allTasks: 'orchestra.tasks.>',
  allOutcomes: 'orchestra.outcomes.>',
  allTimers: 'orchestra.timers.>',
  allCancelNotices: 'orchestra.control.cancel.>',
  allDeadLetters: 'orchestra.dlq.>',
  events: (executionId: string) => `orchestra.events.${token(executionId, 'execution_id')}`,
  tasks: (plugin: string) => `orchestra.tasks.${pluginToken(plugin)}`,
  outcomes: (executionId: string) => `orchestra.outcomes.${token(executionId, 'execution_id')}`,
  timers: (executionId: string) => `orchestra.timers.${token(executionId, 'execution_id')}`,
  /** Core-NATS notice to dispatchers: stop running tasks of this execution. */
  cancelNotice: (executionId: string) => `orchestra.control.cancel.${token(executionId, 'execution_id')}`,
  deadLetters: (source: DeadLetterSource) => `orchestra.dlq.${source}`,
  api: (endpoint: ApiEndpoint) => `orchestra.api.${endpoint}`,
  /**
   * A live worker of the plugin answers a request here with its counts (README, Plugins,
   * "Announcing a worker"); "no responders" means no worker serves the plugin now.
   */
  workerProbe: (plugin: string) => `orchestra.workers.${pluginToken(plugin)}`,
} as const;

/** The NATS service (`$SRV.INFO.orchestra-worker`) every worker announces itself as. */
export const WORKER_SERVICE = 'orchestra-worker';

export type DeadLetterSource = 'commands' | 'tasks' | 'outcomes' | 'timers' | 'events';
/** The request/reply endpoints the services answer (dead letters are read from their stream). */
export const API_ENDPOINTS = ['execute', 'cancel', 'rerun', 'repair', 'results', 'status', 'list'] as const;
export type ApiEndpoint = (typeof API_ENDPOINTS)[number];

export const Streams = {
  commands: 'ORCHESTRA_COMMANDS',
  events: 'ORCHESTRA_EVENTS',
  tasks: 'ORCHESTRA_TASKS',
  outcomes: 'ORCHESTRA_OUTCOMES',
  timers: 'ORCHESTRA_TIMERS',
  deadLetters: 'ORCHESTRA_DLQ',
} as const;

export const Buckets = {
  results: 'orchestra_results',
} as const;

export const MessageIds = {
  /** A dispatch is identified by its attempt, so re-publishing it after a crash is deduplicated. */
  dispatch: (executionId: string, taskId: string, attempt: number) => `${executionId}:${taskId}:${attempt}`,
  outcome: (executionId: string, taskId: string, attempt: number) =>
    `${executionId}:${taskId}:${attempt}:outcome`,
  /** Attempts of an execution whose deadlines fall due together share one deadline timer. */
  deadline: (executionId: string, dueAt: number) => `${executionId}:deadline:${dueAt}`,
  retry: (executionId: string, taskId: string, attempt: number) =>
    `${executionId}:${taskId}:${attempt}:retry`,
  /** A message published again by the `repair`-th repair: a new id, so no dedupe window hides it. */
  repaired: (messageId: string, repair: number) => `${messageId}:repair-${repair}`,
} as const;

/** The execution id at the end of an `orchestra.events.<id>` (or outcomes/timers) subject. */
export function executionIdOf(subject: string): string {
  const id = subject.slice(subject.lastIndexOf('.') + 1);
  return token(id, 'execution_id');
}

function token(value: string, what: string): string {
  if (!EXECUTION_ID_PATTERN.test(value)) {
    throw new ValidationError(`${what} ${JSON.stringify(value)} is not a valid subject token`, [
      { path: what, message: 'must contain only letters, digits, "-" and "_"' },
    ]);
  }
  return value;
}

function pluginToken(value: string): string {
  if (!PLUGIN_PATTERN.test(value)) {
    throw new ValidationError(`plugin ${JSON.stringify(value)} is not a valid subject token`, [
      { path: 'plugin', message: 'must be a single NATS subject token' },
    ]);
  }
  return value;
}
