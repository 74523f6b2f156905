import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './testing/paths.js';

// The real launcher as a user runs it: node apps/cli/bin/orchestra.js -> dist/index.js (built by swc).
const BIN = join(REPO_ROOT, 'apps/cli/bin/orchestra.js');
const BUILT = join(REPO_ROOT, 'apps/cli/dist/index.js');
const SOURCES = ['apps/cli/src', 'libs/contracts/src'].map((dir) => join(REPO_ROOT, dir));

/** Newest modification time of the (non-spec) sources the bin is built from. */
function newestSource(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestSource(path));
    return entry.name.endsWith('.spec.ts') ? newest : Math.max(newest, statSync(path).mtimeMs);
  }, 0);
}

function orchestra(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const stale = !existsSync(BUILT) || statSync(BUILT).mtimeMs < Math.max(...SOURCES.map(newestSource));
  if (stale) execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000 });
}, 130_000);

describe('the orchestra bin (built, in a child process)', () => {
  it('exits 0 when every example is valid', () => {
    const result = orchestra(
      'validate',
      'examples/abort.yaml',
      'examples/due-diligence.yaml',
      'examples/hello.yaml',
      'examples/retry-and-fallback.yaml',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^✓ /gm)).toHaveLength(4);
  });

  it('exits 1 for invalid plans, naming the path and the cycle', () => {
    const result = orchestra('validate', 'examples/invalid/cycle.yaml');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✗ examples/invalid/cycle.yaml');
    expect(result.stderr).toContain('phases[0].depends_on_phases: phases depend on each other in a cycle');
  });

  it('exits 1 for a missing file', () => {
    expect(orchestra('validate', 'examples/missing.yaml')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('(file): no such file'),
    });
  });

  it('exits 2 for a usage error and 0 for --help', () => {
    expect(orchestra('no-such-command')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command'),
    });
    expect(orchestra('validate')).toMatchObject({ code: 2 });
    expect(orchestra('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('Usage: orchestra'),
    });
  });

  it('prints parseable JSON with --json', () => {
    const result = orchestra('validate', '--json', 'examples/hello.yaml');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { file: 'examples/hello.yaml', valid: true, plan_id: 'hello' },
    ]);
  });
});
