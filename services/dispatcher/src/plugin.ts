import type { DispatchTask, JsonValue, TaskUsage } from '@orchestra/contracts';

/** What a plugin's code gets besides the task. */
export interface PluginContext {
  /** Fires on cancel or deadline: stop early, abort any request in flight. */
  signal: AbortSignal;
  /**
   * Records what the attempt cost on a model; it goes into the outcome whether the attempt
   * succeeds or fails. Several calls in one attempt add their tokens up (the last model and finish
   * reason are kept).
   */
  reportUsage(usage: TaskUsage): void;
}

/**
 * A plugin: a named pool of workers the dispatcher hosts. `run` returns the task's output
 * (any JSON value) or throws to fail the attempt; the thrown error's message becomes the
 * attempt's error (a `PluginError` adds a code and may say the failure is not worth a retry).
 * It should stop early when `ctx.signal` aborts.
 */
export interface Plugin {
  name: string;
  /** What the dispatcher announces it as (`builtin`, `agent`, `http`, or the author's word). */
  kind?: string;
  /** Attempts of this plugin run at once by one dispatcher; default the dispatcher's. */
  concurrency?: number;
  run(task: DispatchTask, ctx: PluginContext): Promise<JsonValue>;
}

export interface PluginErrorOptions {
  /** `false`: trying again on this plugin cannot help; the decider skips the remaining retries. */
  retryable?: boolean;
  cause?: unknown;
}

/** An error a plugin throws to fail an attempt with a code, e.g. `new PluginError('rate limited', 'RATE')`. */
export class PluginError extends Error {
  readonly retryable: boolean;

  constructor(
    message: string,
    readonly code?: string,
    options: PluginErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginError';
    this.retryable = options.retryable ?? true;
  }
}
