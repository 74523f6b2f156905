// `node scripts/test-project.mjs <tier> <projectRoot> <projectName>`: one tier of one project's
// tests (the Nx targets test-unit, test-int, test-e2e), with Jest's JSON results in
// .test-results/<tier>/<projectName>.json, which Nx caches and scripts/test-summary.mjs adds up.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [tier, projectRoot, projectName] = process.argv.slice(2);
if (!tier || !projectRoot || !projectName) {
  console.error('usage: node scripts/test-project.mjs <unit|int|e2e> <projectRoot> <projectName>');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const output = join(root, '.test-results', tier, `${projectName}.json`);
mkdirSync(dirname(output), { recursive: true });
// Only this project's files: the pattern is anchored at the repository's own path.
const escaped = join(root, projectRoot, '/').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// One project at a time (npm run test:*): unit tests with Jest's own number of workers, the
// others in band (they start nats-server and service processes).
const workers = tier === 'unit' ? [] : ['--runInBand'];
const jest = spawnSync(
  join(root, 'node_modules', '.bin', 'jest'),
  [
    '--selectProjects',
    tier,
    ...workers,
    '--json',
    `--outputFile=${output}`,
    '--testPathPatterns',
    `^${escaped}`,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(jest.status ?? 1);
