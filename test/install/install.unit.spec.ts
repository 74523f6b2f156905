import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { minVersion, satisfies } from 'semver';

// A fresh `npm ci` must print no warning on the oldest Node.js the README promises (Quick start):
// no EBADENGINE (every locked package's `engines.node` admits that version) and no install-script
// notice (every locked package with an install script is approved or denied in `allowScripts`).
// `.ci/run` also fails when `npm ci` prints either warning; this test names the package at once.

const ROOT = resolve(__dirname, '../..');

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
  hasInstallScript?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** `node_modules/a/node_modules/@b/c` -> `@b/c`; workspaces (no node_modules) are ours. */
function nameOf(path: string): string | undefined {
  const at = path.lastIndexOf('node_modules/');
  return at < 0 ? undefined : path.slice(at + 'node_modules/'.length);
}

/** Installed here: npm skips an optional package whose os or cpu does not match the machine. */
function installable(entry: LockedPackage): boolean {
  if (!entry.optional) return true;
  const fits = (list: string[] | undefined, value: string) => {
    if (!list) return true;
    const denied = list.filter((item) => item.startsWith('!'));
    return denied.length > 0 ? !denied.includes(`!${value}`) : list.includes(value);
  };
  return fits(entry.os, process.platform) && fits(entry.cpu, process.arch);
}

const oldestNode = minVersion(manifest.engines.node)?.version ?? '';

describe('a fresh npm ci on the oldest Node.js the README promises', () => {
  it('promises in the README what package.json says (engines.node)', () => {
    const [, promised = ''] = /Node\.js ≥ (\d+\.\d+)/.exec(readme) ?? [];
    expect(`>=${promised}`).toBe(manifest.engines.node);
    expect(oldestNode).toBe(`${promised}.0`);
  });

  it('locks no package whose engines exclude that Node.js (npm would print EBADENGINE)', () => {
    const refusing = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const name = nameOf(path);
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (!name || !range || !installable(entry)) return [];
      return satisfies(oldestNode, range) ? [] : [`${name}@${entry.version} needs node ${range}`];
    });
    expect(refusing).toEqual([]);
  });

  it('decides for every package with an install script in allowScripts (npm would warn)', () => {
    const policy = manifest.allowScripts ?? {};
    const undecided = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const name = nameOf(path);
      if (!name || !entry.hasInstallScript || !installable(entry)) return [];
      const decided = Object.keys(policy).some((key) => key === name || key.startsWith(`${name}@`));
      return decided ? [] : [`${name}@${entry.version}`];
    });
    expect(undecided).toEqual([]);
  });
});
