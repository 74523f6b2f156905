import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

// The package boundaries (docs/architecture.md, "Packages") are biome's noRestrictedImports in
// biome.json. This runs the real biome.json on probe files laid out like the repository, each with
// one import, and checks which imports it refuses: a wrong import fails `npm run lint`.

const REPO_ROOT = resolve(__dirname, '../..');
const BIOME = join(REPO_ROOT, 'node_modules/.bin/biome');

const PURE = 'libs/execution is the pure core';
const SERVICE = 'A service never imports another service';
const LIB = 'A lib depends on no service, app or test kit';
const DEEP = 'Import another package by its name';
const KIT = 'The test kit is dev-only';

/** [file, the import it makes, the start of the refusal or null when allowed]. */
const cases: [string, string, string | null][] = [
  ['libs/execution/src/probe.ts', 'node:fs', PURE],
  ['libs/execution/src/probe.ts', 'fs', PURE],
  ['libs/execution/src/probe.ts', '@nats-io/jetstream', PURE],
  ['libs/execution/src/probe.ts', '@nestjs/common', PURE],
  ['libs/execution/src/probe.ts', '@orchestra/bus', PURE],
  ['libs/execution/src/probe.ts', 'zod', PURE],
  ['libs/execution/src/probe.ts', '@orchestra/contracts', null],
  ['libs/execution/src/probe.ts', './state.js', null],
  ['libs/execution/src/probe.unit.spec.ts', '@orchestra/testing', null],
  ['libs/execution/src/probe.unit.spec.ts', 'fast-check', null],
  ['services/orchestrator/src/probe.ts', '@orchestra/dispatcher', SERVICE],
  ['services/dispatcher/src/probe.ts', '@orchestra/results', SERVICE],
  ['services/results/src/probe.ts', '@orchestra/orchestrator', SERVICE],
  ['services/results/src/probe.ts', '@orchestra/cli', SERVICE],
  ['services/orchestrator/src/probe.ts', '@orchestra/testing', SERVICE],
  ['services/orchestrator/src/probe.ts', '@orchestra/bus', null],
  ['services/orchestrator/src/probe.ts', '@nestjs/common', null],
  ['libs/bus/src/probe.ts', '@orchestra/orchestrator', LIB],
  ['libs/contracts/src/probe.ts', '@orchestra/cli', LIB],
  ['libs/bus/src/probe.ts', '@orchestra/contracts', null],
  ['apps/cli/src/probe.ts', '@orchestra/testing', KIT],
  ['apps/cli/src/probe.ts', '@orchestra/orchestrator', null],
  ['apps/cli/src/probe.ts', '../../../libs/bus/src/connection.js', DEEP],
  ['apps/console/src/probe.ts', '@orchestra/execution/src/evolve.js', DEEP],
  ['services/orchestrator/src/probe.ts', '../../dispatcher/src/main.js', DEEP],
  ['test/system/probe.int.spec.ts', '../../services/orchestrator/src/orchestrator.js', DEEP],
  ['test/system/probe.int.spec.ts', '@orchestra/orchestrator', null],
  ['libs/execution/src/probe.unit.spec.ts', '../../contracts/src/plan.js', DEEP],
  ['apps/console/ui/src/probe.ts', '@orchestra/contracts/browser', null],
];

interface Diagnostic {
  category: string;
  message: string;
  location: { path: string };
}

let refusals: Map<string, string[]>;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'orchestra-boundaries-'));
  try {
    copyFileSync(join(REPO_ROOT, 'biome.json'), join(dir, 'biome.json'));
    cases.forEach(([file, source], i) => {
      const path = join(dir, file.replace(/probe/, `probe${i}`));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `import { x } from '${source}';\n\nexport const y = x;\n`);
    });
    // biome exits 1 when it reports errors; the JSON report is on stdout either way.
    let report: string;
    try {
      report = execFileSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      report = (error as { stdout: string }).stdout;
    }
    const { diagnostics } = JSON.parse(report) as { diagnostics: Diagnostic[] };
    refusals = new Map();
    for (const d of diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports')) {
      refusals.set(d.location.path, [...(refusals.get(d.location.path) ?? []), d.message]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the import boundaries (biome.json)', () => {
  it.each(cases.map(([file, source, refusal], i) => [file, source, refusal, i] as const))(
    '%s importing %s: %s',
    (file, _source, refusal, i) => {
      const messages = refusals.get(file.replace(/probe/, `probe${i}`)) ?? [];
      if (refusal === null) expect(messages).toEqual([]);
      else expect(messages).toEqual([expect.stringMatching(new RegExp(`^${refusal}`))]);
    },
  );
});
