// `npm run demo`: the README's Quick start in one command (README, Quick start). It uses the
// `orchestra up` already running from this directory if there is one, and leaves it running;
// otherwise it starts one (an embedded nats-server unless NATS_URL is set) and stops it at the
// end. In between: the seed's due-diligence example with live progress (`run --watch`), its
// event log (`replay`), its execution context (`status`) and the list of executions (`ls`).
import { spawn, spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { runningUp } from '../apps/cli/dist/index.js';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/orchestra.js');
const cwd = process.cwd();
const plan = relative(cwd, join(root, 'examples/due-diligence.yaml'));

/** Runs one CLI command in the terminal as a user would type it, and returns its exit code. */
function orchestra(args) {
  console.log(`\n$ npx orchestra ${args.join(' ')}`);
  return spawnSync(process.execPath, [bin, ...args], { cwd, stdio: 'inherit' }).status ?? 1;
}

/** `orchestra up` in a child process, resolved once it is ready. */
function startUp() {
  console.log('$ npx orchestra up &');
  const up = spawn(process.execPath, [bin, 'up'], {
    cwd,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    up.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
      if (output.includes('orchestra up:')) resolve();
    });
    up.once('exit', (code) => reject(new Error(`orchestra up exited with code ${code}`)));
  });
  return { up, ready };
}

async function stop(up) {
  if (up.exitCode !== null || up.signalCode !== null) return;
  const exited = new Promise((resolve) => up.once('exit', resolve));
  up.kill('SIGTERM');
  const force = setTimeout(() => up.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(force);
}

const running = process.env.NATS_URL ? undefined : runningUp(cwd);
let started;
let code = 1;
try {
  if (running) {
    console.log(
      `using the orchestra up already running from this directory (pid ${running.pid}); it keeps running`,
    );
  } else {
    started = startUp();
    await started.ready;
  }
  const id = `demo-${Date.now().toString(36)}`;
  code = orchestra(['run', plan, '--watch', '--id', id]);
  for (const args of [
    ['replay', id],
    ['status', id],
    ['ls', '--limit', '5'],
  ]) {
    if (code === 0) code = orchestra(args);
  }
} catch (error) {
  console.error(`npm run demo: ${error.message}`);
} finally {
  if (started) await stop(started.up);
}
process.exit(code);
