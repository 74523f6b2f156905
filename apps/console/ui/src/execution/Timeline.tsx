import type { TaskState } from '@orchestra/execution';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { PlanGraph } from '../../../src/model/graph';
import {
  type Attempt,
  attemptSegments,
  type TaskTimeline,
  type Timeline as TimelineModel,
  type Wait,
} from '../../../src/model/timeline';
import { ZoomControls } from '../components/zoom';
import { formatClock, formatDuration } from '../format';
import { useNow } from '../hooks';

const ROW_HEIGHT = 30;
const BAR_LEGEND: Array<[string, string]> = [
  ['queued', 'queued'],
  ['run', 'running (plugin)'],
  ['failed', 'failed'],
  ['timeout', 'timed out'],
  ['fallback', 'fallback'],
  ['backoff', 'waiting: backoff'],
  ['dependencies', 'waiting: dependencies'],
];
const LABEL_WIDTH = 240;

type Row = { kind: 'phase'; id: string } | { kind: 'task'; id: string };

interface Props {
  graph: PlanGraph;
  timeline: TimelineModel;
  tasks: Readonly<Record<string, TaskState>>;
  version: number;
  running: boolean;
  selected: string | null;
  onSelect(taskId: string): void;
}

/**
 * A Gantt chart: one row per task, one bar per attempt. Inside a finished bar the lighter part
 * is the time spent waiting for a worker (queued, in transport, being decided) and the solid
 * part the plugin's own run; hatched bars are waits outside any attempt (the backoff before a
 * retry, the dependencies before the first dispatch). The fallback attempt has a dashed border.
 * Rows are virtualized: thousands of tasks cost the rows in view.
 */
export function Timeline(props: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(900);
  const [zoom, setZoom] = useState(1);
  const now = useNow(500, props.running);
  const rows = useMemo<Row[]>(
    () =>
      props.graph.phases.flatMap((phase) => [
        { kind: 'phase' as const, id: phase.phase_id },
        ...phase.task_ids.map((id) => ({ kind: 'task' as const, id })),
      ]),
    [props.graph],
  );
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() =>
      setWidth(Math.max(300, element.clientWidth - LABEL_WIDTH - 24)),
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const start = props.timeline.started_at ?? now;
  const end = Math.max(
    props.timeline.finished_at ?? (props.running ? now : (props.timeline.last_at ?? now)),
    start + 1,
  );
  const chartWidth = width * zoom;
  const x = (t: number) => ((t - start) / (end - start)) * chartWidth;
  const ticks = useMemo(() => tickMarks(end - start, chartWidth), [end, start, chartWidth]);

  return (
    <div className="timeline">
      <div className="graph-toolbar">
        <div className="legend">
          {BAR_LEGEND.map(([swatch, label]) => (
            <span key={swatch} className="legend-item">
              <span className={`bar-swatch swatch-${swatch}`} />
              {label}
            </span>
          ))}
        </div>
        <ZoomControls
          label={`${zoom}×`}
          onOut={() => setZoom(Math.max(1, zoom / 2))}
          onIn={() => setZoom(Math.min(64, zoom * 2))}
        />
      </div>
      <div className="timeline-scroller" ref={scroller} data-testid="timeline-scroller">
        <div className="timeline-axis" style={{ width: LABEL_WIDTH + chartWidth }}>
          <div className="timeline-corner" style={{ width: LABEL_WIDTH }}>
            {formatClock(start)}
          </div>
          {ticks.map((tick) => (
            <span key={tick} className="tick" style={{ left: LABEL_WIDTH + x(start + tick) }}>
              +{formatDuration(tick)}
            </span>
          ))}
        </div>
        <div
          style={{
            height: virtualizer.getTotalSize(),
            width: LABEL_WIDTH + chartWidth,
            position: 'relative',
          }}
        >
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index] as Row;
            return (
              <div
                key={`${row.kind}:${row.id}`}
                className={`timeline-row row-${row.kind}`}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                {row.kind === 'phase' ? (
                  <div className="timeline-label phase-label" style={{ width: LABEL_WIDTH }}>
                    {row.id}
                  </div>
                ) : (
                  <TaskRow
                    id={row.id}
                    task={props.timeline.tasks.get(row.id)}
                    status={props.tasks[row.id]?.status ?? 'pending'}
                    x={x}
                    width={chartWidth}
                    now={now}
                    version={props.version}
                    selected={props.selected === row.id}
                    onSelect={props.onSelect}
                  />
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

const TaskRow = memo(function TaskRow(props: {
  id: string;
  task: TaskTimeline | undefined;
  status: string;
  x(t: number): number;
  /** The chart's width: no bar goes past it. */
  width: number;
  now: number;
  version: number;
  selected: boolean;
  onSelect(id: string): void;
}) {
  const { task, x, now } = props;
  return (
    <button
      type="button"
      className={`timeline-task${props.selected ? ' selected' : ''}`}
      data-task-id={props.id}
      onClick={() => props.onSelect(props.id)}
    >
      <span className={`timeline-label status-${props.status}`} style={{ width: LABEL_WIDTH }}>
        <span className="task-icon" aria-hidden="true" />
        <span className="label-text">{props.id}</span>
      </span>
      {task?.waits.map((wait) => (
        <WaitBar key={`${wait.kind}:${wait.from}`} wait={wait} x={x} width={props.width} now={now} />
      ))}
      {task?.attempts.map((attempt) => (
        <AttemptBar key={attempt.attempt_number} attempt={attempt} x={x} width={props.width} now={now} />
      ))}
      {task?.reused ? (
        <span
          className="reused-mark"
          style={{ left: LABEL_WIDTH + x(task.reused.at) }}
          title={`output reused from ${task.reused.source_execution_id} (record #${task.reused.source_seq})`}
        >
          ↺ reused
        </span>
      ) : null}
      {task?.skipped ? (
        <span
          className="skip-mark"
          style={{ left: LABEL_WIDTH + x(task.skipped.at) }}
          title={`skipped: ${task.skipped.reason}`}
        />
      ) : null}
    </button>
  );
});

function AttemptBar(props: { attempt: Attempt; x(t: number): number; width: number; now: number }) {
  const { attempt, x } = props;
  const endAt = attempt.ended_at ?? props.now;
  const left = x(attempt.dispatched_at);
  const width = Math.max(3, Math.min(x(endAt), props.width) - left);
  const segments = attemptSegments(attempt);
  const queuedShare =
    segments && segments.queued_ms + segments.run_ms > 0
      ? segments.queued_ms / (segments.queued_ms + segments.run_ms)
      : 0;
  const title = [
    `attempt ${attempt.attempt_number} (${attempt.kind}) on ${attempt.plugin}: ${attempt.outcome.replace('_', ' ')}`,
    `dispatched ${formatClock(attempt.dispatched_at)}`,
    segments
      ? `queued ${formatDuration(segments.queued_ms)}, ran ${formatDuration(segments.run_ms)}`
      : attempt.ended_at === null
        ? 'in flight'
        : `no outcome for ${formatDuration(attempt.ended_at - attempt.dispatched_at)}`,
    attempt.error ? `error: ${attempt.error}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <span
      className={`attempt-bar outcome-${attempt.outcome} kind-${attempt.kind}`}
      data-attempt={attempt.attempt_number}
      data-kind={attempt.kind}
      data-outcome={attempt.outcome}
      style={{ left: LABEL_WIDTH + left, width }}
      title={title}
    >
      {segments ? <span className="bar-queued" style={{ width: `${queuedShare * 100}%` }} /> : null}
    </span>
  );
}

function WaitBar(props: { wait: Wait; x(t: number): number; width: number; now: number }) {
  const { wait, x } = props;
  const left = x(wait.from);
  const width = Math.max(2, Math.min(x(wait.to ?? props.now), props.width) - left);
  const what = wait.kind === 'backoff' ? 'waiting for the retry (backoff)' : 'waiting for dependencies';
  return (
    <span
      className={`wait-bar wait-${wait.kind}`}
      data-wait={wait.kind}
      style={{ left: LABEL_WIDTH + left, width }}
      title={`${what}: ${formatDuration((wait.to ?? props.now) - wait.from)}`}
    />
  );
}

/** About one tick per 120 px, on a round step (1, 2 or 5 times a power of ten ms). */
function tickMarks(rangeMs: number, widthPx: number): number[] {
  const wanted = Math.max(1, Math.floor(widthPx / 120));
  const raw = rangeMs / wanted;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = step; t < rangeMs && ticks.length < 500; t += step) ticks.push(t);
  return ticks;
}
