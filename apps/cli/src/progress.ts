import type { OrchestraClient } from '@orchestra/client';
import type { ExecutionEvent } from '@orchestra/contracts';
import { LiveView, type Terminal } from './live-view.js';
import { describeEvent } from './render.js';

export interface PhaseProgress {
  phase_id: string;
  total: number;
  /** Tasks that reached their end: succeeded, skipped or given up. */
  done: number;
  /** Tasks with an attempt running now. */
  running: number;
  /** pending, running, then the PhaseFinished status. */
  status: string;
}

const FINISHING = new Set<ExecutionEvent['type']>(['TaskSucceeded', 'TaskSkipped', 'TaskGaveUp']);
const ATTEMPT_ENDS = new Set<ExecutionEvent['type']>([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskSkipped',
  'TaskGaveUp',
]);

/**
 * One execution's progress, folded from its events: a bar per phase and a log with a line per
 * transition (every attempt announced with its kind and plugin), each line timed from the start.
 */
export class ExecutionProgress {
  readonly phases: PhaseProgress[] = [];
  readonly log: string[] = [];
  /** The final status (ExecutionFinished, or `rejected`), once known. */
  final: string | undefined;
  private origin: number | undefined;
  private readonly runningTasks = new Set<string>();

  constructor(readonly executionId: string) {}

  apply(event: ExecutionEvent): string {
    this.origin ??= event.at;
    const line = `+${((event.at - this.origin) / 1000).toFixed(3).padStart(8)}s  ${describeEvent(event)}`;
    this.log.push(line);
    if (event.type === 'ExecutionStarted') {
      for (const phase of event.plan.phases) {
        this.phases.push({
          phase_id: phase.phase_id,
          total: phase.tasks.length,
          done: 0,
          running: 0,
          status: 'pending',
        });
      }
    }
    if (event.type === 'ExecutionFinished') this.final = event.status;
    if (event.type === 'ExecutionRejected') this.final = 'rejected';
    if ('phase_id' in event) this.applyToPhase(event);
    return line;
  }

  private applyToPhase(event: ExecutionEvent & { phase_id: string }): void {
    const phase = this.phases.find((candidate) => candidate.phase_id === event.phase_id);
    if (!phase) return;
    const task = 'task_id' in event ? `${event.phase_id}/${event.task_id}` : undefined;
    if (event.type === 'PhaseStarted') phase.status = 'running';
    if (event.type === 'PhaseFinished') phase.status = event.status;
    if (event.type === 'TaskDispatched' && task && !this.runningTasks.has(task)) {
      this.runningTasks.add(task);
      phase.running += 1;
    }
    if (ATTEMPT_ENDS.has(event.type) && task && this.runningTasks.delete(task)) phase.running -= 1;
    if (FINISHING.has(event.type)) phase.done += 1;
  }
}

/**
 * Follows one execution's events, history first then live. At a terminal: one display, the
 * phases' bars above and the log of transitions below, redrawn in place. Elsewhere (a pipe, a
 * file): the log lines only, one per event. Resolves with the final status.
 */
export async function followExecution(
  client: OrchestraClient,
  executionId: string,
  out: Terminal,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const progress = new ExecutionProgress(executionId);
  const view = out.isTTY ? new LiveView(out, progress) : undefined;
  view?.update();
  try {
    for await (const { event } of client.watch(executionId, signal ? { signal } : {})) {
      const line = progress.apply(event);
      if (view) view.update();
      else out.write(`${line}\n`);
    }
  } finally {
    view?.finish();
  }
  return progress.final;
}
