import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's examples/ (also in the image): plans the submit page offers to load. */
export const DEFAULT_EXAMPLES_DIR = fileURLToPath(new URL('../../../examples', import.meta.url));
const MAX_EXAMPLE_BYTES = 256 * 1024;

export interface ExamplePlan {
  name: string;
  text: string;
}

export function readExamples(dir: string = DEFAULT_EXAMPLES_DIR): ExamplePlan[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ya?ml|json)$/.test(entry.name))
    .map((entry) => ({ name: entry.name, text: readFileSync(join(dir, entry.name), 'utf8') }))
    .filter((example) => example.text.length <= MAX_EXAMPLE_BYTES)
    .sort((a, b) => a.name.localeCompare(b.name));
}
