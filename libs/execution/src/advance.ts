import { LIMITS } from '@orchestra/contracts';
import type { Emitter } from './emitter.js';
import { afterFailure } from './failure-policy.js';
import { resolveInput } from './resolve.js';
import type { ExecutionState, PhaseResultStatus, PhaseState, TaskIndexEntry, TaskState } from './state.js';
import { isTerminal, unfinishedCount } from './state.js';

/**
 * Moves a running execution forward as far as its state allows, emitting events until nothing
 * more follows: phases whose dependencies finished start, tasks whose prerequisites ended start
 * or are skipped, failed attempts are retried, handed to the fallback or given up, due retries
 * are dispatched, finished phases and the execution end. Depends on state and time only.
 */
export function advance(emitter: Emitter): void {
  const { state } = emitter;
  if (state.status !== 'running' || !state.index) return;
  let progressed = true;
  while (progressed && !state.stopping && state.status === 'running') {
    progressed = false;
    for (const phase_id of state.index.phaseOrder) {
      if (advancePhase(emitter, phase_id)) progressed = true;
      if (state.stopping) break;
    }
    if (!state.stopping && state.index.phaseOrder.every((id) => state.phases[id]?.status === 'finished')) {
      const allSucceeded = Object.values(state.tasks).every((task) => task.status === 'success');
      emitter.emit({ type: 'ExecutionFinished', status: allSucceeded ? 'completed' : 'partial' });
    }
  }
  if (state.stopping && state.status === 'running') windDown(emitter);
}

function advancePhase(emitter: Emitter, phase_id: string): boolean {
  const { state } = emitter;
  const index = state.index as NonNullable<ExecutionState['index']>;
  let phase = state.phases[phase_id] as PhaseState;
  let progressed = false;
  if (phase.status === 'pending') {
    const ready = (index.phaseDeps[phase_id] ?? []).every((dep) => state.phases[dep]?.status === 'finished');
    if (!ready) return false;
    emitter.emit({ type: 'PhaseStarted', phase_id });
    progressed = true;
  }
  phase = state.phases[phase_id] as PhaseState;
  if (phase.status !== 'running') return progressed;
  const taskIds = index.phaseTasks[phase_id] ?? [];
  for (const task_id of taskIds) {
    const counts = (state.phases[phase_id] as PhaseState).counts;
    if (counts.pending + counts.attempt_failed + counts.retry_wait === 0) break;
    const task = state.tasks[task_id] as TaskState;
    const entry = index.tasks[task_id] as TaskIndexEntry;
    if (task.status === 'attempt_failed') {
      afterFailure(emitter, task, entry, (plugin) =>
        dispatch(emitter, task, entry, 'fallback', plugin, task.input_context ?? {}),
      );
      progressed = true;
    } else if (task.status === 'pending') progressed = tryStart(emitter, task, entry) || progressed;
    else if (task.status === 'retry_wait' && (task.retry_due_at ?? 0) <= emitter.now) {
      dispatch(emitter, task, entry, 'retry', entry.task.assigned_plugin, task.input_context ?? {});
      progressed = true;
    }
    if (state.stopping) return true;
  }
  phase = state.phases[phase_id] as PhaseState;
  if (unfinishedCount(phase) === 0) {
    emitter.emit({ type: 'PhaseFinished', phase_id, status: phaseResult(state, phase) });
    progressed = true;
  }
  return progressed;
}

function tryStart(emitter: Emitter, task: TaskState, entry: TaskIndexEntry): boolean {
  const { state } = emitter;
  for (const id of entry.waitFor) {
    if (!isTerminal((state.tasks[id] as TaskState).status)) return false;
  }
  for (const id of entry.needSuccess) {
    const status = (state.tasks[id] as TaskState).status;
    if (status !== 'success') {
      skip(emitter, task, `dependency "${id}" did not succeed (${status})`);
      return true;
    }
  }
  let input = entry.task.input_context;
  if (entry.hasReferences) {
    // A succeeded task's output may be JSON null, which is a value, not a missing output.
    const resolution = resolveInput(input, (id) => {
      const source = state.tasks[id];
      return source?.status === 'success' ? (source.output ?? null) : undefined;
    });
    if (!resolution.ok) {
      skip(emitter, task, resolution.reason);
      return true;
    }
    input = resolution.value;
    // References can grow an input past what one TaskDispatched event (and the worker) accepts.
    const bytes = new TextEncoder().encode(JSON.stringify(input)).length;
    if (bytes > LIMITS.inputBytes) {
      skip(
        emitter,
        task,
        `resolved input_context is ${bytes} bytes as JSON; the limit is ${LIMITS.inputBytes}`,
      );
      return true;
    }
  }
  dispatch(emitter, task, entry, 'first', entry.task.assigned_plugin, input);
  return true;
}

function dispatch(
  emitter: Emitter,
  task: TaskState,
  entry: TaskIndexEntry,
  kind: 'first' | 'retry' | 'fallback',
  plugin: string,
  input_context: TaskState['input_context'] & object,
): void {
  emitter.emit({
    type: 'TaskDispatched',
    phase_id: task.phase_id,
    task_id: task.task_id,
    attempt_number: task.attempt_number + 1,
    kind,
    plugin,
    input_context,
    deadline_at: emitter.now + entry.task.timeout_ms,
  });
}

function skip(emitter: Emitter, task: TaskState, reason: string): void {
  emitter.emit({ type: 'TaskSkipped', phase_id: task.phase_id, task_id: task.task_id, reason });
}

/** After an abort or a cancel: every unfinished task is skipped, open phases end, then the run. */
function windDown(emitter: Emitter): void {
  const { state } = emitter;
  const index = state.index as NonNullable<ExecutionState['index']>;
  const stopping = state.stopping as NonNullable<ExecutionState['stopping']>;
  const reason =
    stopping.status === 'cancelled'
      ? `execution cancelled: ${stopping.reason}`
      : `execution aborted: ${stopping.reason}`;
  for (const phase_id of index.phaseOrder) {
    for (const task_id of index.phaseTasks[phase_id] ?? []) {
      const task = state.tasks[task_id] as TaskState;
      if (!isTerminal(task.status)) skip(emitter, task, reason);
    }
    const phase = state.phases[phase_id] as PhaseState;
    if (phase.status !== 'finished')
      emitter.emit({ type: 'PhaseFinished', phase_id, status: phaseResult(state, phase) });
  }
  emitter.emit({ type: 'ExecutionFinished', status: stopping.status });
}

function phaseResult(state: ExecutionState, phase: PhaseState): PhaseResultStatus {
  const { counts } = phase;
  const total = unfinishedCount(phase) + counts.success + counts.failed + counts.timeout + counts.skipped;
  if (counts.success === total) return 'completed';
  if (counts.failed + counts.timeout > 0) return 'failed';
  if (state.stopping?.status === 'cancelled') return 'cancelled';
  if (phase.status === 'pending') return 'skipped';
  return 'partial';
}
