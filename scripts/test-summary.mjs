// Prints one closing line for all test tiers ("N passed, N failed"), from the JSON results each
// project's tier writes below .test-results/ (scripts/test-project.mjs; the fault suite writes
// faults.json), so a reader of the log sees the totals at the end.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../.test-results', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const files = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
for (const file of files) {
  if (!file.endsWith('.json')) continue;
  const result = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  if (typeof result.numPassedTests !== 'number') continue;
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + (result.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
