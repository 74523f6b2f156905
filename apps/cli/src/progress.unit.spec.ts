import { type ExecutionEvent, validatePlan } from '@orchestra/contracts';
import { FINAL_LOG_LINES, frameLines, LiveView } from './live-view.js';
import { ExecutionProgress } from './progress.js';

// The live view's frame, from events: bars above, the log below, never wider or taller than the
// terminal while live. The real terminal is exercised in test/e2e/live-view.e2e.spec.ts (tmux).

const validated = validatePlan({
  plan_id: 'p',
  phases: [
    {
      phase_id: 'gather',
      tasks: [
        { task_id: 'a', assigned_plugin: 'builtin', entry_point: { type: 'function', value: 'echo' } },
        { task_id: 'b', assigned_plugin: 'flaky@x', entry_point: { type: 'function', value: 'echo' } },
      ],
    },
    {
      phase_id: 'report',
      depends_on_phases: ['gather'],
      tasks: [{ task_id: 'c', assigned_plugin: 'builtin', entry_point: { type: 'function', value: 'echo' } }],
    },
  ],
});
if (!validated.ok) throw new Error('the test plan is invalid');
const plan = validated.plan;

const base = { execution_id: 'e1' };
const dispatched = (
  task_id: string,
  attempt_number: number,
  kind: 'first' | 'retry' | 'fallback',
  plugin: string,
  at: number,
) =>
  ({
    type: 'TaskDispatched',
    ...base,
    at,
    phase_id: 'gather',
    task_id,
    attempt_number,
    kind,
    plugin,
    input_context: {},
    deadline_at: at + 1000,
  }) as ExecutionEvent;

const EVENTS: ExecutionEvent[] = [
  { type: 'ExecutionStarted', ...base, at: 1_000, plan },
  { type: 'PhaseStarted', ...base, at: 1_000, phase_id: 'gather' },
  dispatched('a', 1, 'first', 'builtin', 1_000),
  dispatched('b', 1, 'first', 'flaky@x', 1_000),
  {
    type: 'TaskFailed',
    ...base,
    at: 1_200,
    phase_id: 'gather',
    task_id: 'b',
    attempt_number: 1,
    plugin_used: 'flaky@x',
    error: 'boom',
    duration_ms: 200,
  },
  dispatched('b', 2, 'fallback', 'builtin', 1_250),
  {
    type: 'TaskSucceeded',
    ...base,
    at: 1_500,
    phase_id: 'gather',
    task_id: 'a',
    attempt_number: 1,
    plugin_used: 'builtin',
    output: {},
    duration_ms: 500,
  },
];

function progressOf(events: ExecutionEvent[]): ExecutionProgress {
  const progress = new ExecutionProgress('e1');
  for (const event of events) progress.apply(event);
  return progress;
}

describe('ExecutionProgress', () => {
  it('counts finished and running tasks per phase and logs every attempt with its kind and plugin', () => {
    const progress = progressOf(EVENTS);
    expect(progress.phases).toEqual([
      { phase_id: 'gather', total: 2, done: 1, running: 1, status: 'running' },
      { phase_id: 'report', total: 1, done: 0, running: 0, status: 'pending' },
    ]);
    expect(progress.log).toEqual([
      '+   0.000s  started plan p (2 phases, 3 tasks)',
      '+   0.000s  phase gather started',
      '+   0.000s  gather/a → attempt 1 (first) on builtin',
      '+   0.000s  gather/b → attempt 1 (first) on flaky@x',
      '+   0.200s  gather/b ✗ attempt 1 failed: boom',
      '+   0.250s  gather/b → attempt 2 (fallback) on builtin',
      '+   0.500s  gather/a ✓ succeeded on builtin in 500 ms',
    ]);
  });
});

describe('frameLines', () => {
  it('puts one bar per phase above a blank line and the log', () => {
    const lines = frameLines(progressOf(EVENTS), { columns: 100, rows: 40 }, false);
    expect(lines[0]).toMatch(/^gather {2}█{20}░{20} {2}1\/2 {2}running \(1 running\)$/);
    expect(lines[1]).toMatch(/^report {2}░{40} {2}0\/1 {2}pending$/);
    expect(lines[2]).toBe('');
    expect(lines.slice(3)).toEqual(progressOf(EVENTS).log);
  });

  it('keeps the live frame within the terminal: the newest log lines, no line as wide as it', () => {
    const many = [...EVENTS];
    for (let i = 0; i < 200; i++)
      many.push(dispatched(`a`, 1, 'first', `plugin-with-a-rather-long-name-${i}`, 2_000 + i));
    const progress = progressOf(many);
    const lines = frameLines(progress, { columns: 60, rows: 20 }, false);
    expect(lines.length).toBeLessThanOrEqual(19);
    expect(lines.every((line) => line.length < 60)).toBe(true);
    expect(lines[3]).toMatch(/^… \d+ earlier transitions$/);
    expect(lines.at(-1)).toMatch(/on plugin-with-a-.*…$/);
  });

  it('holds the whole log in the final frame, up to FINAL_LOG_LINES, and points to replay beyond', () => {
    const many = [...EVENTS];
    for (let i = 0; i < FINAL_LOG_LINES + 10; i++)
      many.push(dispatched('a', 1, 'first', 'builtin', 2_000 + i));
    const lines = frameLines(progressOf(many), { columns: 120, rows: 20 }, true);
    expect(lines).toHaveLength(2 + 1 + FINAL_LOG_LINES);
    expect(lines[3]).toBe(
      `… ${many.length - FINAL_LOG_LINES + 1} earlier transitions (orchestra replay e1 lists them all)`,
    );
  });

  it('says it waits before the execution has started', () => {
    expect(frameLines(new ExecutionProgress('e9'), { columns: 80, rows: 24 }, false)).toEqual([
      'waiting for execution e9 to start…',
    ]);
  });
});

describe('LiveView', () => {
  it('redraws in place: back to the first line of the previous frame, each line cleared, the rest erased', () => {
    const writes: string[] = [];
    const progress = progressOf(EVENTS.slice(0, 3));
    const view = new LiveView(
      { write: (text) => writes.push(text), isTTY: true, columns: 100, rows: 40 },
      progress,
    );
    view.finish();
    progress.apply(EVENTS[3] as ExecutionEvent);
    view.finish();
    const [first, second] = writes as [string, string];
    const firstHeight = (first.match(/\n/g) ?? []).length;
    expect(first.startsWith('\x1b[2K')).toBe(true);
    expect(second.startsWith(`\x1b[${firstHeight}F\x1b[2K`)).toBe(true);
    expect(second.endsWith('\n\x1b[J')).toBe(true);
    const redrawn = second.slice(`\x1b[${firstHeight}F`.length).split('\n');
    expect(redrawn.every((line) => line === '\x1b[J' || line.startsWith('\x1b[2K'))).toBe(true);
  });
});
