// `npm run test:soak -- --minutes N [--retention 5m] [--sample S] [--cache N]`: the soak run (test/soak), --cache
// setting ORCHESTRA_CACHED_EXECUTIONS of the orchestrator and the results service; it prints a table
// of every process's RSS and every store's size and writes .test-results/soak.{json,md,svg}.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const args = process.argv.slice(2);
const value = (flag) => {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
};
const env = { ...process.env, SOAK_MINUTES: value('--minutes') ?? '3' };
if (value('--retention')) env.SOAK_RETENTION = value('--retention');
if (value('--sample')) env.SOAK_SAMPLE_S = value('--sample');
if (value('--cache')) env.SOAK_CACHE = value('--cache');

mkdirSync('.test-results', { recursive: true });
const jest = spawnSync('npx', ['jest', '--selectProjects', 'soak', '--runInBand'], { stdio: 'inherit', env });
process.exit(jest.status ?? 1);
