import type { ExecutionProgress, PhaseProgress } from './progress.js';

/** Where the view is drawn: a terminal when `isTTY` (its size read at each redraw). */
export interface Terminal {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface FrameSize {
  columns: number;
  rows: number;
}

/** At most this many log lines in the final frame; `replay` lists them all. */
export const FINAL_LOG_LINES = 1_000;
const REDRAW_MS = 80;

/**
 * The frame of an execution's live view: a bar per phase, a blank line, then the log of
 * transitions. While live it fits the terminal (the newest log lines that fit), so that it can
 * be redrawn in place; the final frame holds the whole log (up to FINAL_LOG_LINES). No line is
 * longer than the terminal is wide, so none wraps.
 */
export function frameLines(progress: ExecutionProgress, size: FrameSize, final: boolean): string[] {
  const width = Math.max(size.columns - 1, 20);
  const fit = (line: string) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
  if (progress.phases.length === 0) return [fit(`waiting for execution ${progress.executionId} to start…`)];
  // Leave the last row to the cursor; keep at least three log lines visible.
  const budget = Math.max(size.rows - 1, 6);
  const maxBars = final ? progress.phases.length : Math.max(budget - 5, 1);
  const shown = progress.phases.slice(0, maxBars);
  const bars = shown.map((phase, _i, all) => barLine(phase, all, width));
  if (shown.length < progress.phases.length)
    bars.push(`… and ${progress.phases.length - shown.length} more phases`);
  const room = final ? FINAL_LOG_LINES : Math.max(budget - bars.length - 1, 3);
  const hidden = Math.max(progress.log.length - room, 0);
  const log = progress.log.slice(hidden);
  if (hidden > 0) {
    log[0] = final
      ? `… ${hidden + 1} earlier transitions (orchestra replay ${progress.executionId} lists them all)`
      : `… ${hidden + 1} earlier transitions`;
  }
  return [...bars, '', ...log].map(fit);
}

function barLine(phase: PhaseProgress, all: readonly PhaseProgress[], width: number): string {
  const nameWidth = Math.min(Math.max(...all.map((p) => p.phase_id.length)), 32);
  const countWidth = String(Math.max(...all.map((p) => p.total))).length;
  const barWidth = Math.min(Math.max(width - nameWidth - 2 * countWidth - 30, 10), 40);
  const filled = phase.total === 0 ? barWidth : Math.round((phase.done / phase.total) * barWidth);
  const running = phase.running > 0 ? ` (${phase.running} running)` : '';
  const count = `${String(phase.done).padStart(countWidth)}/${phase.total}`;
  return `${phase.phase_id.padEnd(nameWidth)}  ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}  ${count}  ${phase.status}${running}`;
}

/**
 * Draws the frame of an execution and redraws it in place (at most every REDRAW_MS): the cursor
 * goes back to the frame's first line, every line is rewritten and what is left below is erased,
 * all in one write, so nothing else can come between a bar and a log line.
 */
export class LiveView {
  private height = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Terminal,
    private readonly progress: ExecutionProgress,
  ) {}

  /** Something changed: redraw soon (many events in a row are drawn once). */
  update(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw(false);
    }, REDRAW_MS);
  }

  /** The final frame, with the whole log; the cursor ends below it. */
  finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draw(true);
  }

  private draw(final: boolean): void {
    const size = { columns: this.out.columns ?? 80, rows: this.out.rows ?? 24 };
    const lines = frameLines(this.progress, size, final);
    const back = this.height > 0 ? `\x1b[${this.height}F` : '';
    this.out.write(`${back}${lines.map((line) => `\x1b[2K${line}\n`).join('')}\x1b[J`);
    this.height = lines.length;
  }
}
