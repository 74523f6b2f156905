import type { OrchestraClient } from '@orchestra/client';
import type { ExecutionEvent } from '@orchestra/contracts';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { describeEvent } from './render.js';

export interface WatchOutput {
  write(text: string): void;
  isTTY: boolean;
}

const FINISHING = new Set<ExecutionEvent['type']>(['TaskSucceeded', 'TaskSkipped', 'TaskGaveUp']);

/**
 * Follows one execution's events, history first then live: a progress bar per phase on a
 * terminal, one line per event elsewhere. Resolves with the final event's status.
 */
export async function followExecution(
  client: OrchestraClient,
  executionId: string,
  out: WatchOutput,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const bars = out.isTTY
    ? new MultiBar(
        { format: ' {phase} |{bar}| {value}/{total} {status}', hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      )
    : undefined;
  const phaseBars = new Map<string, SingleBar>();
  let final: string | undefined;
  try {
    for await (const { event } of client.watch(executionId, signal ? { signal } : {})) {
      if (bars) updateBars(bars, phaseBars, event);
      else out.write(`${describeEvent(event)}\n`);
      if (event.type === 'ExecutionFinished') final = event.status;
      if (event.type === 'ExecutionRejected') final = 'rejected';
    }
  } finally {
    bars?.stop();
  }
  return final;
}

function updateBars(bars: MultiBar, phaseBars: Map<string, SingleBar>, event: ExecutionEvent): void {
  if (event.type === 'ExecutionStarted') {
    const width = Math.max(...event.plan.phases.map((phase) => phase.phase_id.length));
    for (const phase of event.plan.phases) {
      phaseBars.set(
        phase.phase_id,
        bars.create(phase.tasks.length, 0, { phase: phase.phase_id.padEnd(width), status: 'pending' }),
      );
    }
    return;
  }
  if ('phase_id' in event) {
    const bar = phaseBars.get(event.phase_id);
    if (event.type === 'PhaseStarted') bar?.update({ status: 'running' });
    if (event.type === 'PhaseFinished') bar?.update({ status: event.status });
    if (FINISHING.has(event.type)) bar?.increment();
  }
  if (event.type !== 'TaskDispatched' && event.type !== 'TaskSucceeded' && !event.type.startsWith('Phase')) {
    bars.log(`${describeEvent(event)}\n`);
  }
}
