import type { DispatchTask, JsonValue } from '@orchestra/contracts';

/** What a plugin's code gets besides the task: a signal that fires on cancel or deadline. */
export interface PluginContext {
  signal: AbortSignal;
}

/**
 * A plugin: a named pool of workers the dispatcher hosts. `run` returns the task's output
 * (any JSON value) or throws to fail the attempt; the thrown error's message becomes the
 * attempt's error. It should stop early when `ctx.signal` aborts.
 */
export interface Plugin {
  name: string;
  run(task: DispatchTask, ctx: PluginContext): Promise<JsonValue>;
}

/** An error a plugin throws to fail an attempt with a code, e.g. `new PluginError('rate limited', 'RATE')`. */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PluginError';
  }
}
