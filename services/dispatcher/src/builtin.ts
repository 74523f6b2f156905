import { setTimeout as sleep } from 'node:timers/promises';
import type { DispatchTask, JsonValue } from '@orchestra/contracts';
import { type Plugin, type PluginContext, PluginError } from './plugin.js';

const MAX_SLEEP_MS = 60 * 60 * 1000;

/**
 * The `builtin` plugin (entry point type `function`), for dry runs, demos and tests:
 * echo (output = resolved input), sleep (waits input_context.ms, then echoes), fail (fails with
 * input_context.message), flaky (fails while attempt_number <= input_context.failures).
 */
export const builtinPlugin: Plugin = {
  name: 'builtin',
  kind: 'builtin',
  async run(task: DispatchTask, ctx: PluginContext): Promise<JsonValue> {
    if (task.entry_point.type !== 'function') {
      throw new PluginError(
        `builtin runs entry points of type "function", not "${task.entry_point.type}"`,
        'USAGE',
      );
    }
    const input = task.input_context;
    switch (task.entry_point.value) {
      case 'echo':
        return input;
      case 'sleep': {
        const ms = Math.min(MAX_SLEEP_MS, Math.max(0, Number(input.ms ?? 0)));
        await sleep(ms, undefined, { signal: ctx.signal });
        return input;
      }
      case 'fail':
        throw new PluginError(
          typeof input.message === 'string' ? input.message : 'failed on purpose',
          'FAIL',
        );
      case 'flaky': {
        const failures = Number(input.failures ?? 1);
        if (task.attempt_number <= failures) {
          throw new PluginError(
            `flaky: attempt ${task.attempt_number} of ${failures} planned failures`,
            'FLAKY',
          );
        }
        return input;
      }
      default:
        throw new PluginError(
          `builtin has no function "${task.entry_point.value}" (echo, sleep, fail, flaky)`,
          'UNKNOWN_FUNCTION',
        );
    }
  },
};
