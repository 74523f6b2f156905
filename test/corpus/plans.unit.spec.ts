import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { type Issue, type PlanFormat, parsePlan } from '@orchestra/contracts';
import { orchestraInProcess as run } from '../support/cli-in-process.js';
import {
  countByCategory,
  type ExpectedIssue,
  listCases,
  loadPlanExpectations,
  PLANS_DIR,
  type PlanDescriptor,
  readJson,
} from './corpus.js';
import { generatePlanText } from './generate.js';

/**
 * Every bad plan of the corpus is refused with an issue naming where (an exact path) and what
 * (a message fragment): by parsePlan, and by `orchestra validate` run in-process.
 */
const files = listCases(PLANS_DIR, /\.(ya?ml|json)$/);
const expectations = loadPlanExpectations();
const scratch = mkdtempSync(join(tmpdir(), 'orchestra-corpus-plans-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface PlanCase {
  file: string;
  /** The file `orchestra validate` reads: the case itself, or the generated plan. */
  path: string;
  text: string;
  format: PlanFormat;
}

function load(file: string): PlanCase {
  if (!file.endsWith('.gen.json')) {
    const path = join(PLANS_DIR, file);
    return { file, path, text: readFileSync(path, 'utf8'), format: formatOf(file) };
  }
  const descriptor = readJson<PlanDescriptor>(join(PLANS_DIR, file));
  const text = generatePlanText(descriptor.generate, descriptor.format);
  const path = join(scratch, file.replace(/\.gen\.json$/, `.${descriptor.format}`));
  writeFileSync(path, text);
  return { file, path, text, format: descriptor.format };
}

function formatOf(file: string): PlanFormat {
  return extname(file) === '.json' ? 'json' : 'yaml';
}

function describeIssues(issues: readonly Issue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
}

const matches = (issue: Issue, expected: ExpectedIssue) =>
  issue.path === expected.path && issue.message.includes(expected.message);

describe('the bad-plan corpus', () => {
  it('has an expectation for every case and a case for every expectation', () => {
    expect(Object.keys(expectations).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(60);
    const counts = countByCategory(files);
    for (const category of ['malformed', 'bomb', 'huge', 'deep', 'types', 'unknown', 'missing']) {
      expect(counts[category]).toBeGreaterThan(0);
    }
    for (const category of ['cycle', 'dangling', 'duplicate', 'injection', 'names']) {
      expect(counts[category]).toBeGreaterThan(0);
    }
  });

  describe.each(files)('%s', (file) => {
    const expected = expectations[file] as (typeof expectations)[string];

    it('parsePlan refuses it with an issue naming the path and the problem', () => {
      const planCase = load(file);
      const result = parsePlan(planCase.text, planCase.format);
      if (result.ok) throw new Error(`${file} was accepted`);
      const found = result.issues.find((issue) => matches(issue, expected));
      if (!found) {
        throw new Error(
          `${file}: no issue at ${expected.path} containing ${JSON.stringify(expected.message)}; got:\n${describeIssues(result.issues)}`,
        );
      }
      for (const issue of result.issues) {
        expect(issue.path.length).toBeGreaterThan(0);
        expect(issue.message.length).toBeGreaterThan(0);
      }
    });

    it('orchestra validate exits 1 and prints the same issue under the file name', async () => {
      const planCase = load(file);
      const shown = expected.cli ?? expected;
      const result = await run(['validate', planCase.path]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe(`✗ ${planCase.path}`);
      const line = lines
        .slice(1)
        .find((text) => text.startsWith(`  ${shown.path}: `) && text.includes(shown.message));
      if (!line) {
        throw new Error(`${file}: expected "  ${shown.path}: …${shown.message}…" in:\n${result.stderr}`);
      }
    });
  });
});
