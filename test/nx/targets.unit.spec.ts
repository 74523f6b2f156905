import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// Nx runs the tests project by project (README, "Tests"): a spec file runs only if its project
// has the target of its tier. This fails when a test would be left out, e.g. the first int test
// of a project that had only unit tests.

const REPO_ROOT = join(__dirname, '../..');
const readJson = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));

interface Project {
  root: string;
  targets: string[];
}

/** The workspace packages a file imports by name. */
function importedPackages(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/from '(@orchestra\/[a-z]+)[/']/g)].map((match) => match[1] as string);
}

const workspaces = readJson('package.json').workspaces as string[];
const projects: Project[] = [
  ...workspaces.map((root) => ({
    root,
    targets: Object.keys(readJson(join(root, 'package.json')).nx?.targets ?? {}),
  })),
  { root: 'test', targets: Object.keys(readJson('test/project.json').targets) },
];

function sourceFiles(dir: string, pattern = /\.tsx?$/): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter(
      (file) =>
        pattern.test(file) && !file.split('/').some((part) => part === 'node_modules' || part === 'dist'),
    )
    .map((file) => join(dir, file));
}
const specFiles = (dir: string) => sourceFiles(dir, /\.(unit|int|e2e)\.spec\.ts$/);

const owner = (file: string) =>
  projects
    .filter((project) => !relative(project.root, file).startsWith('..'))
    .sort((a, b) => b.root.length - a.root.length)[0];

describe("the projects' Nx targets", () => {
  it('give every workspace a build, a typecheck and a lint', () => {
    for (const project of projects.filter((p) => p.root !== 'test')) {
      expect({
        root: project.root,
        has: ['build', 'typecheck', 'lint'].filter((t) => project.targets.includes(t)),
      }).toEqual({
        root: project.root,
        has: ['build', 'typecheck', 'lint'],
      });
    }
  });

  it('run every unit, int and e2e spec file: its project has the target of its tier', () => {
    const files = ['libs', 'services', 'apps', 'bench', 'test'].flatMap(specFiles);
    expect(files.length).toBeGreaterThan(80);
    const missing = files.flatMap((file) => {
      const tier = /\.(unit|int|e2e)\.spec\.ts$/.exec(file)?.[1];
      const project = owner(file);
      return project?.targets.includes(`test-${tier}`)
        ? []
        : [`${file}: no test-${tier} in ${project?.root}`];
    });
    expect(missing).toEqual([]);
  });

  it("declare each package's workspace imports in its package.json, so the graph and nx affected are right", () => {
    const undeclared = workspaces
      .filter((root) => root !== 'libs/testing')
      .flatMap((root) => {
        const manifest = readJson(join(root, 'package.json'));
        const declared = new Set([
          manifest.name,
          ...Object.keys(manifest.dependencies ?? {}),
          ...Object.keys(manifest.devDependencies ?? {}),
        ]);
        const runtime = new Set(Object.keys(manifest.dependencies ?? {}));
        return sourceFiles(root).flatMap((file) => {
          const isTest = /\.spec\.ts$/.test(file) || file.includes('/testing/');
          return importedPackages(file)
            .filter((name) => (isTest ? !declared.has(name) : !runtime.has(name) && name !== manifest.name))
            .map(
              (name) =>
                `${file} imports ${name}, not in ${root}/package.json ${isTest ? '' : 'dependencies'}`,
            );
        });
      });
    expect([...new Set(undeclared)]).toEqual([]);
  });
});
