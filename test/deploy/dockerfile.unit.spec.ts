import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './support/render.js';

// The Dockerfile, parsed (no Docker engine runs the tests): a build stage, a stage with the
// production dependencies only, and a runtime stage that runs the CLI as a non-root user under tini.

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Instructions by stage; continuation lines joined, comments and the parser directive dropped. */
function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [, keyword = '', rest = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const [, from = '', name = ''] = /^(\S+)(?: AS (\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ name, from, instructions: [] });
    } else if (stages.length === 0) args.push(instruction);
    else stages[stages.length - 1]?.instructions.push(instruction);
  }
  return { args, stages };
}

const { args, stages } = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
/** Workspaces the image builds (npm ci needs them) but does not ship. */
const DEV_ONLY_WORKSPACES = ['libs/testing', 'bench'];
const workspaces = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).workspaces as string[];
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const all = (s: Stage, keyword: string) =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const runtime = stages[stages.length - 1] as Stage;

describe('Dockerfile', () => {
  it('builds on node:20-slim: the manifests, then build and deps from them, then runtime', () => {
    expect(args).toEqual([{ keyword: 'ARG', args: 'NODE_IMAGE=node:20-slim' }]);
    expect(stages.map((s) => `${s.name} ${s.from}`)).toEqual([
      'manifests ${NODE_IMAGE}',
      'build manifests',
      'deps manifests',
      'runtime ${NODE_IMAGE}',
    ]);
  });

  it('has every workspace package.json and the lock in the manifests stage, all that npm ci needs', () => {
    const copies = all(stage('manifests'), 'COPY');
    expect(copies[0]).toBe('package.json package-lock.json ./');
    expect(copies.slice(1).sort()).toEqual(workspaces.map((w) => `${w}/package.json ${w}/`).sort());
    expect(all(stage('manifests'), 'RUN')).toEqual([]);
  });

  it('compiles every workspace in the build stage', () => {
    const runs = all(stage('build'), 'RUN');
    expect(runs).toEqual(['npm ci --ignore-scripts --no-audit --no-fund', 'node scripts/build.mjs']);
    for (const tree of ['libs', 'services', 'apps', 'bench']) {
      expect(all(stage('build'), 'COPY')).toContain(`${tree} ${tree}`);
    }
  });

  it('installs the production dependencies without the prepare script in the deps stage', () => {
    expect(all(stage('deps'), 'RUN')).toEqual([
      'npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force',
    ]);
    expect(all(stage('deps'), 'COPY')).toEqual([]);
  });

  it('ships those dependencies and every runtime workspace package.json and dist/ in the runtime stage', () => {
    const copies = all(runtime, 'COPY');
    expect(copies).toContain('--from=deps /app/node_modules node_modules');
    expect(copies.filter((c) => /npm|node_modules/.test(c) && !c.startsWith('--from=deps'))).toEqual([]);
    for (const workspace of workspaces.filter((w) => !DEV_ONLY_WORKSPACES.includes(w))) {
      expect(copies).toContain(`--from=build /app/${workspace}/package.json ${workspace}/`);
      expect(copies).toContain(`--from=build /app/${workspace}/dist ${workspace}/dist`);
    }
    expect(copies).toContain('--from=build /app/apps/cli/bin apps/cli/bin');
  });

  it('runs as a non-root user, given by number so that Kubernetes can verify runAsNonRoot', () => {
    const users = all(runtime, 'USER');
    expect(users).toEqual(['1000:1000']);
  });

  it('gives that user .orchestra/ only, where orchestra up keeps a signing key it makes', () => {
    const runs = all(runtime, 'RUN').join(' ');
    expect(runs).toContain('mkdir -p /app/.orchestra && chown 1000:1000 /app/.orchestra');
  });

  it('starts the CLI under tini, `up` by default', () => {
    expect(all(runtime, 'RUN').join(' ')).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(all(runtime, 'ENTRYPOINT')).toEqual([
      JSON.stringify(['/usr/bin/tini', '--', 'node', 'apps/cli/bin/orchestra.js']).replace(/,/g, ', '),
    ]);
    expect(all(runtime, 'CMD')).toEqual(['["up"]']);
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('leaves out installed and built files, and keeps what the Dockerfile copies', () => {
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
    const fromContext = stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((c) => !c.startsWith('--from'))
      .flatMap((c) => c.split(' ').slice(0, -1));
    for (const source of fromContext) {
      const top = source.split('/')[0] ?? source;
      expect({ [source]: ignored.includes(top) || ignored.includes(source) }).toEqual({ [source]: false });
    }
  });
});
