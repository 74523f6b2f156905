// `npm run test:faults [-- --long] [-- --cluster] [-- --seed N]`: the fault suites (test/faults)
// against real nats-server and service processes; each prints its table. Without --cluster both
// the single-server suite and the 3-node cluster suite run (their short forms run in `npm test`);
// --cluster runs only the cluster suite, --long the long forms.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const args = process.argv.slice(2);
const env = { ...process.env };
if (args.includes('--long')) env.FAULTS = 'long';
const seed = args.indexOf('--seed');
if (seed >= 0 && args[seed + 1]) env.FAULTS_SEED = args[seed + 1];
const only = args.includes('--cluster') ? ['test/faults/cluster'] : [];

mkdirSync('.test-results', { recursive: true });
const jest = spawnSync(
  'npx',
  [
    'jest',
    ...only,
    '--selectProjects',
    'faults',
    '--runInBand',
    '--json',
    '--outputFile=.test-results/faults.json',
  ],
  { stdio: 'inherit', env },
);
process.exit(jest.status ?? 1);
