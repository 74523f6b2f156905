// `npm run test:faults [-- --long] [-- --seed N]`: the fault suite (test/faults) against real
// nats-server and service processes; prints its table. The short form also runs in `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const args = process.argv.slice(2);
const env = { ...process.env };
if (args.includes('--long')) env.FAULTS = 'long';
const seed = args.indexOf('--seed');
if (seed >= 0 && args[seed + 1]) env.FAULTS_SEED = args[seed + 1];

mkdirSync('.test-results', { recursive: true });
const jest = spawnSync(
  'npx',
  ['jest', '--selectProjects', 'faults', '--json', '--outputFile=.test-results/faults.json'],
  { stdio: 'inherit', env },
);
process.exit(jest.status ?? 1);
