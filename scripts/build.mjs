// Compiles workspaces' src/ to dist/ with swc (ESM, decorator metadata for NestJS), then bundles
// the web pages (a workspace's ui/vite.config.ts: the console) into dist/ui with vite. Nx runs it
// per project (`node scripts/build.mjs libs/bus`, the target `build`, cached); with no argument it
// builds every workspace (the Docker image). Type-checking is separate; this only emits JavaScript.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const chosen = process.argv.slice(2);
const workspaces =
  chosen.length > 0 ? chosen : JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const swc = join(root, 'node_modules', '.bin', 'swc');

for (const workspace of workspaces) {
  const src = join(root, workspace, 'src');
  if (!existsSync(src)) continue;
  const dist = join(root, workspace, 'dist');
  rmSync(dist, { recursive: true, force: true });
  // Relative paths from the workspace: --strip-leading-paths drops the first segment (`src/`),
  // so src/index.ts lands in dist/index.js, where each package.json's exports point.
  execFileSync(
    swc,
    [
      'src',
      '-d',
      'dist',
      '--strip-leading-paths',
      '--config-file',
      join(root, '.swcrc'),
      '--ignore',
      '**/*.spec.ts',
      '--quiet',
    ],
    { stdio: 'inherit', cwd: join(root, workspace) },
  );
  // After swc, which empties dist/: vite writes the page into <workspace>/dist/ui.
  const config = join(root, workspace, 'ui', 'vite.config.ts');
  if (!existsSync(config)) continue;
  execFileSync(join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', config], {
    stdio: 'inherit',
    cwd: join(root, workspace, 'ui'),
  });
}
