import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type DocumentParse, type PlanFormat, parseDocumentText } from '@orchestra/contracts';
import { categoryOf, listCases, PLANS_DIR, type PlanDescriptor, readJson } from '../corpus/corpus.js';
import { generatePlanText } from '../corpus/generate.js';

const EXAMPLES_DIR = join(__dirname, '../../examples');
/** YAML files of examples/ that are not plans: the plugins file of `orchestra up --plugins`. */
const NOT_PLANS = new Set(['plugins.yaml']);

export interface PlanDocument {
  name: string;
  /** `example`, `invalid` (examples/invalid) or the corpus category. */
  category: string;
  /** Whether Orchestra accepts the plan. */
  valid: boolean;
  /** The document read as a value (or why it could not be). */
  parsed: DocumentParse;
}

/** The example plans (valid, the Go example's too), examples/invalid and the bad-plan corpus (refused), as values. */
export function loadPlanDocuments(): PlanDocument[] {
  const examples = yamlFiles(EXAMPLES_DIR)
    .filter((file) => !NOT_PLANS.has(file))
    .map((file) => read(`examples/${file}`, 'example', true, readFileSync(join(EXAMPLES_DIR, file), 'utf8')));
  const goExample = read(
    'examples/go/plan.json',
    'example',
    true,
    readFileSync(join(EXAMPLES_DIR, 'go/plan.json'), 'utf8'),
  );
  const invalid = yamlFiles(join(EXAMPLES_DIR, 'invalid')).map((file) =>
    read(
      `examples/invalid/${file}`,
      'invalid',
      false,
      readFileSync(join(EXAMPLES_DIR, 'invalid', file), 'utf8'),
    ),
  );
  const corpus = listCases(PLANS_DIR, /\.(ya?ml|json)$/).map((file) => {
    if (!file.endsWith('.gen.json')) {
      const text = readFileSync(join(PLANS_DIR, file), 'utf8');
      return read(file, categoryOf(file), false, text, extname(file) === '.json' ? 'json' : 'yaml');
    }
    const { generate, format } = readJson<PlanDescriptor>(join(PLANS_DIR, file));
    return read(file, categoryOf(file), false, generatePlanText(generate, format), format);
  });
  return [...examples, goExample, ...invalid, ...corpus];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
}

function read(
  name: string,
  category: string,
  valid: boolean,
  text: string,
  format?: PlanFormat,
): PlanDocument {
  return { name, category, valid, parsed: parseDocumentText(text, format) };
}
