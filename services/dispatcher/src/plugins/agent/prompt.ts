import type { DispatchTask } from '@orchestra/contracts';

/**
 * The seed's Step 3 prompt (README, Plugins): description, entry point type and value, the
 * resolved input context as JSON, the expected output key, one per line.
 */
export const SEED_PROMPT = [
  'Execute: {description}',
  'Entry Point: {entry_point.type} - {entry_point.value}',
  'Input Context: {input_context}',
  'Expected Output Key: {output_key}',
].join('\n');

/** The placeholders a prompt or system template may use; anything else in braces stays as written. */
const PLACEHOLDERS: Record<string, (task: DispatchTask) => string> = {
  description: (task) => task.description,
  'entry_point.type': (task) => task.entry_point.type,
  'entry_point.value': (task) => task.entry_point.value,
  input_context: (task) => JSON.stringify(task.input_context),
  output_key: (task) => task.output_key,
  task_id: (task) => task.task_id,
  phase_id: (task) => task.phase_id,
  plan_id: (task) => task.plan_id,
  execution_id: (task) => task.execution_id,
  attempt_number: (task) => String(task.attempt_number),
};

export const PROMPT_PLACEHOLDERS = Object.keys(PLACEHOLDERS);

/**
 * Fills a template in one pass: a value that itself contains `{description}` is inserted as is,
 * never expanded again, and nothing is evaluated.
 */
export function renderPrompt(template: string, task: DispatchTask): string {
  return template.replace(/\{([a-z_.]+)\}/g, (whole, name: string) => {
    const value = Object.hasOwn(PLACEHOLDERS, name) ? PLACEHOLDERS[name] : undefined;
    return value ? value(task) : whole;
  });
}

/** The instruction added to the system prompt when the reply must match a schema it cannot enforce. */
export function schemaInstruction(schema: Record<string, unknown>): string {
  return `Reply with a single JSON value and nothing else. It must match this JSON Schema:\n${JSON.stringify(schema)}`;
}
