import type { StoredEvent } from '@orchestra/bus';
import { MessageIds, type TaskOutcome, type Timer } from '@orchestra/contracts';
import { deadlineTimerDue, decide, type ExecutionState, initialState } from '@orchestra/execution';
import { onePhase, T0, task } from '@orchestra/testing';
import { type BusSnapshot, baseMessageId, effectRecords, stillStuck, stuckTasks } from './examine.js';

/**
 * `orchestra doctor`'s judgement: a running execution whose log implies a dispatch or a timer that
 * is not on the bus is stuck at that task; one whose messages are all there (or whose outcome
 * already waits) is not.
 */
describe('what must be on the bus for a running execution', () => {
  // `run` is dispatched and running; `flaky` failed once and waits for its retry.
  const plan = onePhase([
    task('run'),
    task('flaky', { retries: 1, backoff: { initial_ms: 5_000, multiplier: 1, max_ms: 5_000 } }),
  ]);
  const events: StoredEvent[] = [];
  let state: ExecutionState = initialState();
  let seq = 0;
  /** One decision, stored as one record. */
  const step = (input: Parameters<typeof decide>[1], now: number) => {
    const decision = decide(state, input, { now });
    seq += 1;
    for (const event of decision.events) events.push({ seq, event });
    state = decision.state;
  };
  step({ kind: 'execute', execution_id: 'e', plan }, T0);
  const failure: TaskOutcome = {
    type: 'TaskOutcome',
    status: 'failed',
    error: { message: 'boom' },
    execution_id: 'e',
    phase_id: 'p1',
    task_id: 'flaky',
    attempt_number: 1,
    plugin_used: 'worker',
    duration_ms: 1,
    finished_at: T0 + 10,
  };
  step({ kind: 'outcome', outcome: failure }, T0 + 10);
  const running = state.tasks.run;
  const deadline: Timer = {
    type: 'Timer',
    kind: 'deadline',
    execution_id: 'e',
    task_id: 'run',
    attempt_number: 1,
    due_at: deadlineTimerDue(running as never),
  };
  const retry: Timer = {
    type: 'Timer',
    kind: 'retry',
    execution_id: 'e',
    task_id: 'flaky',
    attempt_number: 2,
    due_at: T0 + 5_010,
  };
  const everything: BusSnapshot = {
    dispatches: new Set([MessageIds.dispatch('e', 'run', 1), MessageIds.dispatch('e', 'flaky', 1)]),
    outcomes: new Set(),
    timers: [deadline, retry],
  };
  const all = () => true;

  it('finds nothing stuck when every message the log implies is there', () => {
    expect(state.tasks.flaky?.status).toBe('retry_wait');
    expect(stuckTasks(state, everything, all)).toEqual([]);
  });

  it('names a running attempt whose dispatch is gone, unless its outcome already waits', () => {
    const lost = { ...everything, dispatches: new Set<string>() };
    expect(stuckTasks(state, lost, all)).toEqual([
      {
        task_id: 'run',
        phase_id: 'p1',
        status: 'running',
        attempt_number: 1,
        plugin: 'worker',
        missing: [{ kind: 'dispatch', subject: 'orchestra.tasks.worker', msg_id: 'e:run:1' }],
      },
    ]);
    expect(stuckTasks(state, { ...lost, outcomes: new Set(['run:1']) }, all)).toEqual([]);
    // A repair's copy stands for the original.
    const copy = new Set([baseMessageId(MessageIds.repaired(MessageIds.dispatch('e', 'run', 1), 2))]);
    expect(stuckTasks(state, { ...lost, dispatches: copy }, all)).toEqual([]);
  });

  it('names a lost deadline timer and a lost retry timer', () => {
    const stuck = stuckTasks(state, { ...everything, timers: [] }, all);
    expect(
      stuck.map((task) => [task.task_id, task.status, task.attempt_number, task.missing.map((m) => m.kind)]),
    ).toEqual([
      ['run', 'running', 1, ['deadline-timer']],
      ['flaky', 'retry_wait', 2, ['retry-timer']],
    ]);
  });

  it('does not judge a task whose effects the outbox has not published yet', () => {
    const records = effectRecords(events);
    expect(records.get('flaky')).toBe(2);
    expect(records.get('run')).toBe(1);
    const upToFirst = stuckTasks(
      state,
      { ...everything, timers: [] },
      (task) => (records.get(task.task_id) ?? 0) <= 1,
    );
    expect(upToFirst.map((task) => task.task_id)).toEqual(['run']);
  });

  it('keeps only the tasks still in the same place in a later read of the log', () => {
    const stuck = stuckTasks(state, { ...everything, timers: [] }, all);
    expect(stillStuck(stuck, state)).toEqual(stuck);
    const moved = decide(state, { kind: 'timer', timer: retry }, { now: T0 + 5_010 }).state;
    expect(moved.tasks.flaky?.status).toBe('running');
    expect(stillStuck(stuck, moved).map((task) => task.task_id)).toEqual(['run']);
  });
});
