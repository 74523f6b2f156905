import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, REPO_ROOT, ServiceProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

// `orchestra run --watch` in a real terminal: tmux is the pseudo-terminal (120 x 40, as a user's
// window). The screen is captured while the run goes on and once it has ended, and read as a
// person reads it: bars above, the log of transitions below, nothing glued or repeated, every
// attempt announced with its kind and plugin, and at the end exactly what `results` prints.

const BIN = join(REPO_ROOT, 'apps/cli/bin/orchestra.js');
const SOCKET = `orchestra-live-view-${process.pid}`;
const BAR =
  /^(\S+) +[█░]+ +(\d+)\/(\d+) +(pending|running|completed|partial|failed|skipped|cancelled)( \(\d+ running\))?$/;
const LOG = /^(\+ +\d+\.\d{3}s {2}\S.*|… \d+ earlier transitions.*)$/;
const EXIT = /^\[exit (\d+)\]$/;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

/** The visible screen, or the whole history (`-S -`), wrapped lines joined, trailing blanks dropped. */
function capture(window: string, history = false): string[] {
  const args = ['capture-pane', '-p', '-J', '-t', window, ...(history ? ['-S', '-'] : [])];
  return tmux(...args)
    .split('\n')
    .map((line) => line.trimEnd());
}

/** What a screen shows, line by line; a line of no known kind fails the test with the screen. */
function readScreen(lines: string[], id: string) {
  const bars: string[] = [];
  const log: string[] = [];
  let results = false;
  for (const line of lines) {
    if (results || line === '' || line === `execution ${id}` || EXIT.test(line)) continue;
    // The results follow the display: their header, and YAML lines (indented) once it scrolled away.
    if (line === 'execution_results:' || line.startsWith('  ')) {
      results = true;
      continue;
    }
    // Said before the display starts: a plan naming a plugin no worker serves (`nobody-serves-this`).
    if (line.startsWith('waiting for execution') || line.startsWith('warning: no live worker serves'))
      continue;
    const bar = BAR.exec(line);
    if (bar) {
      if (log.length > 0) throw new Error(`a bar below the log:\n${lines.join('\n')}`);
      bars.push(bar[1] as string);
    } else if (LOG.test(line) && !/[█░]/.test(line)) log.push(line);
    else
      throw new Error(
        `a line that is neither a bar nor a log line: ${JSON.stringify(line)}\n${lines.join('\n')}`,
      );
  }
  return { bars, log };
}

describe('orchestra run --watch in a terminal (tmux)', () => {
  let server: NatsServerHandle;
  let services: ServiceProcess;

  beforeAll(async () => {
    server = await startNatsServer();
    services = await ServiceProcess.start('orchestrator,dispatcher,results', server.url);
    tmux('new-session', '-d', '-x', '120', '-y', '40', '-s', 'live', 'sleep 600');
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // not started
    }
    await services?.stop();
    await server?.stop();
  });

  /** Runs the command in a new 120 x 40 window; returns the screens seen while it ran, and the history. */
  async function watchInTerminal(window: string, plan: string, id: string) {
    const command = `NATS_URL=${server.url} ${process.execPath} ${BIN} run ${plan} --watch --id ${id}; echo "[exit $?]"; sleep 600`;
    tmux('new-window', '-d', '-t', 'live', '-n', window, '-c', REPO_ROOT, command);
    const screens: string[][] = [];
    const history = await waitFor(
      () => {
        const screen = capture(`live:${window}`);
        if (screens.length === 0 || screen.join('\n') !== screens.at(-1)?.join('\n')) screens.push(screen);
        const all = capture(`live:${window}`, true);
        return all.some((line) => EXIT.test(line)) ? all : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${id} to end in the terminal` },
    );
    return { screens, history };
  }

  function expectCoherent(screens: string[][], history: string[], id: string, phases: string[]) {
    expect(screens.length).toBeGreaterThan(1);
    for (const screen of screens) {
      const { bars } = readScreen(screen, id);
      // No phase twice, in the plan's order.
      expect(bars).toEqual(phases.slice(0, bars.length));
    }
    const final = readScreen(history, id);
    expect(final.bars).toEqual(phases);
    for (const line of history.filter((candidate) => BAR.test(candidate)))
      expect(line).toMatch(/(\d+)\/\1 +completed$/);
    expect(history.find((line) => EXIT.test(line))).toBe('[exit 0]');
    return final.log;
  }

  async function expectEndsWithResults(history: string[], id: string) {
    const from = history.indexOf('execution_results:');
    const to = history.findIndex((line) => EXIT.test(line));
    const results = await orchestra(['results', id], { NATS_URL: server.url });
    expect(history.slice(from, to).join('\n')).toBe(
      results.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n'),
    );
  }

  it('shows the due-diligence run as one display and ends with what results shows', async () => {
    const phases = ['phase-1-data-gathering', 'phase-2-analysis', 'phase-3-synthesis'];
    const { screens, history } = await watchInTerminal('dd', 'examples/due-diligence.yaml', 'live-dd');
    const log = expectCoherent(screens, history, 'live-dd', phases);
    expect(log).toContainEqual(
      expect.stringMatching(/phase-1-data-gathering\/task-1a → attempt 1 \(first\) on builtin$/),
    );
    expect(log).toContainEqual(
      expect.stringMatching(/phase-1-data-gathering\/task-1c → attempt 2 \(retry\) on builtin$/),
    );
    expect(log).toContainEqual(
      expect.stringMatching(/phase-2-analysis\/task-2b → attempt 3 \(fallback\) on builtin$/),
    );
    expect(log.at(-1)).toMatch(/execution completed$/);
    await expectEndsWithResults(history, 'live-dd');
  });

  it('shows a second run in the same terminal just as well, the fallback on its own plugin', async () => {
    const { screens, history } = await watchInTerminal('rf', 'examples/retry-and-fallback.yaml', 'live-rf');
    const log = expectCoherent(screens, history, 'live-rf', ['recover', 'report']);
    expect(log).toContainEqual(
      expect.stringMatching(/recover\/unserved → attempt 1 \(first\) on nobody-serves-this$/),
    );
    expect(log).toContainEqual(
      expect.stringMatching(/recover\/unserved ⏱ attempt 1 timed out on nobody-serves-this$/),
    );
    expect(log).toContainEqual(
      expect.stringMatching(/recover\/unserved → attempt 2 \(fallback\) on builtin$/),
    );
    await expectEndsWithResults(history, 'live-rf');
  });
});
