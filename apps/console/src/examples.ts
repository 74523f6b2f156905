import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlan } from '@orchestra/contracts';

/** The repository's examples/ (also in the image): plans the submit page offers to load. */
export const DEFAULT_EXAMPLES_DIR = fileURLToPath(new URL('../../../examples', import.meta.url));
const MAX_EXAMPLE_BYTES = 256 * 1024;

export interface ExamplePlan {
  name: string;
  text: string;
}

export function readExamples(dir: string = DEFAULT_EXAMPLES_DIR): ExamplePlan[] {
  if (!existsSync(dir)) return [];
  return (
    readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.(ya?ml|json)$/.test(entry.name))
      .map((entry) => ({ name: entry.name, text: readFileSync(join(dir, entry.name), 'utf8') }))
      // Only plans: examples/ also has other files (a plugins file), and invalid plans live in
      // examples/invalid/.
      .filter((example) => example.text.length <= MAX_EXAMPLE_BYTES && parsePlan(example.text).ok)
      .sort((a, b) => a.name.localeCompare(b.name))
  );
}
