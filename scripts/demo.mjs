// `npm run demo`: starts `orchestra up` (embedded nats-server unless NATS_URL is set), runs the
// seed's due-diligence example with live progress, replays it, then stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/orchestra.js');
const orchestra = (args) => spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit' });

const up = spawn(process.execPath, [bin, 'up'], {
  cwd: root,
  env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let upOutput = '';
const ready = new Promise((resolve, reject) => {
  up.stdout.on('data', (chunk) => {
    upOutput += chunk;
    process.stdout.write(chunk);
    if (upOutput.includes('orchestra up:')) resolve();
  });
  up.once('exit', (code) => reject(new Error(`orchestra up exited with ${code}`)));
});

let code = 1;
try {
  await ready;
  const id = `demo-${Date.now().toString(36)}`;
  code = orchestra(['run', 'examples/due-diligence.yaml', '--watch', '--id', id]).status ?? 1;
  if (code === 0) code = orchestra(['replay', id]).status ?? 1;
} catch (error) {
  console.error(error.message);
} finally {
  up.kill('SIGTERM');
  await new Promise((resolve) => (up.exitCode !== null ? resolve() : up.once('exit', resolve)));
}
process.exit(code);
