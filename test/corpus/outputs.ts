import { join } from 'node:path';
import type { JsonValue, PlanInput } from '@orchestra/contracts';
import type { Plugin } from '@orchestra/dispatcher';
import { categoryOf, listCases, OUTPUTS_DIR, readJson } from './corpus.js';
import { generateValue, type ValueGenerator } from './generate.js';

/** One file of `outputs/`: what a plugin returns, and the error its attempt must fail with. */
export interface OutputCase {
  file: string;
  /** The task of the outputs plan that returns it. */
  task_id: string;
  description: string;
  output: { generate: ValueGenerator } | { special: 'circular' | 'bigint' | 'function' };
  expect: { error: string };
}

export const OUTPUT_PLUGIN = 'corpus-output';

export function loadOutputCases(): OutputCase[] {
  return listCases(OUTPUTS_DIR, /\.json$/).map((file) => {
    categoryOf(file);
    const task_id = file.replace(/\.json$/, '').replace(/[^A-Za-z0-9_-]/g, '_');
    return { file, task_id, ...readJson<Omit<OutputCase, 'file' | 'task_id'>>(join(OUTPUTS_DIR, file)) };
  });
}

/** The value a case's plugin returns: generated, or something JSON cannot represent. */
function outputOf(c: OutputCase): unknown {
  if ('generate' in c.output) return generateValue(c.output.generate);
  switch (c.output.special) {
    case 'circular': {
      const value: Record<string, unknown> = { name: 'loop' };
      value.self = value;
      return value;
    }
    case 'bigint':
      return { total: 10n ** 30n };
    case 'function':
      return () => 'not data';
    default: {
      const _exhaustive: never = c.output.special;
      return _exhaustive;
    }
  }
}

/** A plugin that answers `input_context.case` with that case's output (`fine`: a small object). */
export function outputPlugin(cases: readonly OutputCase[]): Plugin {
  const byTask = new Map(cases.map((c) => [c.task_id, c]));
  return {
    name: OUTPUT_PLUGIN,
    async run(task) {
      const c = byTask.get(String(task.input_context.case));
      return (c ? outputOf(c) : { fine: true }) as JsonValue;
    },
  };
}

/** One task per case, plus `fine`, each with a single attempt. */
export function outputsPlan(cases: readonly OutputCase[]): PlanInput {
  const task = (task_id: string) => ({
    task_id,
    assigned_plugin: OUTPUT_PLUGIN,
    entry_point: { type: 'function', value: 'output' },
    input_context: { case: task_id },
    timeout_ms: 10_000,
  });
  return {
    plan_id: 'corpus-outputs',
    phases: [{ phase_id: 'outputs', tasks: [task('fine'), ...cases.map((c) => task(c.task_id))] }],
  };
}
