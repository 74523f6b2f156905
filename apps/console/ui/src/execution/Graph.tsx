import type { PhaseState, TaskState } from '@orchestra/execution';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { PlanGraph } from '../../../src/model/graph';
import type { Box, EdgeRoute, GraphLayout } from '../../../src/model/layout';
import { statusLabel } from '../components/status';
import { ZoomControls } from '../components/zoom';
import { formatDuration } from '../format';
import { bounds, intersects, Legend, pathOf } from './graph-parts';
import { useLayout } from './use-layout';

/** Drawn beyond the visible area, so a scroll shows nodes that are already there. */
const OVERSCAN = 400;

interface Props {
  graph: PlanGraph;
  tasks: Readonly<Record<string, TaskState>>;
  phases: Readonly<Record<string, PhaseState>>;
  version: number;
  selected: string | null;
  onSelect(taskId: string): void;
}

/**
 * Phases and tasks, each coloured by its status in the fold and updated as events arrive.
 * Only what is in view (plus a margin) is in the DOM, so a plan of thousands of tasks scrolls
 * as smoothly as a small one.
 */
export function Graph(props: Props) {
  const layout = useLayout(props.graph);
  const viewport = useRef<HTMLDivElement>(null);
  const [zoom, setZoom] = useState<number | null>(null);
  const [view, setView] = useState({ x: 0, y: 0, width: 1600, height: 900 });
  const frame = useRef(0);
  const scale = zoom ?? 1;

  const measure = useCallback(() => {
    const element = viewport.current;
    if (!element) return;
    setView({
      x: element.scrollLeft / scale,
      y: element.scrollTop / scale,
      width: element.clientWidth / scale,
      height: element.clientHeight / scale,
    });
  }, [scale]);
  const onScroll = () => {
    if (frame.current !== 0) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      measure();
    });
  };
  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [measure]);
  // The first zoom fits the graph's width, but never below half size: text must stay readable.
  useEffect(() => {
    if (!layout || zoom !== null || !viewport.current) return;
    setZoom(Math.max(0.5, Math.min(1, viewport.current.clientWidth / layout.width)));
  }, [layout, zoom]);

  const visible = useMemo(() => {
    if (!layout) return { tasks: [] as string[], edges: [] as EdgeRoute[] };
    const area = {
      x: view.x - OVERSCAN,
      y: view.y - OVERSCAN,
      width: view.width + 2 * OVERSCAN,
      height: view.height + 2 * OVERSCAN,
    };
    return {
      tasks: Object.keys(layout.tasks).filter((id) => intersects(layout.tasks[id] as Box, area)),
      edges: layout.edges.filter((edge) => intersects(bounds(edge), area)),
    };
  }, [layout, view]);

  if (!layout) {
    return (
      <div className="graph-loading muted">Laying out {props.graph.tasks.size.toLocaleString()} tasks…</div>
    );
  }
  const fit = () => {
    const element = viewport.current;
    if (element)
      setZoom(
        Math.max(0.1, Math.min(1, element.clientWidth / layout.width, element.clientHeight / layout.height)),
      );
  };
  return (
    <div className="graph">
      <div className="graph-toolbar">
        <Legend />
        <ZoomControls
          label={`${Math.round(scale * 100)}%`}
          onOut={() => setZoom(Math.max(0.1, scale / 1.25))}
          onIn={() => setZoom(Math.min(2, scale * 1.25))}
          onFit={fit}
        />
      </div>
      <div
        className="graph-viewport"
        ref={viewport}
        onScroll={onScroll}
        data-testid="graph-viewport"
        data-tasks={props.graph.tasks.size}
      >
        <div style={{ width: layout.width * scale, height: layout.height * scale, position: 'relative' }}>
          <div
            className="graph-canvas"
            style={{ width: layout.width, height: layout.height, transform: `scale(${scale})` }}
          >
            {props.graph.phases.map((phase) => (
              <PhaseFrame
                key={phase.phase_id}
                id={phase.phase_id}
                mode={phase.execution_mode}
                box={layout.phases[phase.phase_id] as Box}
                state={props.phases[phase.phase_id]}
              />
            ))}
            <Edges layout={layout} edges={visible.edges} />
            {visible.tasks.map((id) => (
              <TaskNode
                key={id}
                id={id}
                box={layout.tasks[id] as Box}
                task={props.tasks[id]}
                selected={props.selected === id}
                onSelect={props.onSelect}
              />
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}

const PhaseFrame = memo(function PhaseFrame(props: {
  id: string;
  mode: string;
  box: Box;
  state: PhaseState | undefined;
}) {
  const { box, state } = props;
  const status = state?.result ?? state?.status ?? 'pending';
  const counts = state?.counts;
  const total = counts ? Object.values(counts).reduce((a, b) => a + b, 0) : 0;
  const done = counts ? counts.success + counts.failed + counts.timeout + counts.skipped : 0;
  return (
    <div
      className={`phase-frame phase-${status}`}
      data-phase-id={props.id}
      data-status={status}
      style={{ left: box.x, top: box.y, width: box.width, height: box.height }}
    >
      <div className="phase-header">
        <span className="phase-name" title={props.id}>
          {props.id}
        </span>
        <span className="phase-meta">
          {props.mode} · {done}/{total}
        </span>
      </div>
    </div>
  );
});

const TaskNode = memo(function TaskNode(props: {
  id: string;
  box: Box;
  task: TaskState | undefined;
  selected: boolean;
  onSelect(id: string): void;
}) {
  const { box, task } = props;
  const status = task?.status ?? 'pending';
  const detail = task?.reused_from
    ? `reused from ${task.reused_from.execution_id}`
    : task && task.attempt_number > 0
      ? `${task.plugin ?? ''}${task.duration_ms !== null ? ` · ${formatDuration(task.duration_ms)}` : ''}`
      : status === 'skipped'
        ? 'skipped, never ran'
        : 'waiting';
  return (
    <button
      type="button"
      className={`task-node status-${status}${props.selected ? ' selected' : ''}`}
      data-task-id={props.id}
      data-status={status}
      title={`${props.id}: ${statusLabel(status)}`}
      style={{ left: box.x, top: box.y, width: box.width, height: box.height }}
      onClick={() => props.onSelect(props.id)}
    >
      <span className="task-icon" aria-hidden="true" />
      <span className="task-text">
        <span className="task-name">{props.id}</span>
        <span className="task-detail">{detail}</span>
      </span>
      {task?.reused_from ? (
        <span
          className="attempt-chip kind-reused"
          title={`output of ${task.reused_from.execution_id}, record #${task.reused_from.seq}`}
        >
          ↺
        </span>
      ) : null}
      {task && task.attempt_number > 1 && !task.reused_from ? (
        <span
          className={`attempt-chip kind-${task.kind}`}
          title={`attempt ${task.attempt_number} (${task.kind})`}
        >
          {task.kind === 'fallback' ? 'FB' : `×${task.attempt_number}`}
        </span>
      ) : null}
    </button>
  );
});

function Edges(props: { layout: GraphLayout; edges: EdgeRoute[] }) {
  return (
    <svg className="graph-edges" width={props.layout.width} height={props.layout.height} aria-hidden="true">
      <defs>
        {['phase', 'depends_on', 'sequence', 'reference'].map((kind) => (
          <marker
            key={kind}
            id={`arrow-${kind}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerUnits="userSpaceOnUse"
            markerWidth={kind === 'phase' ? 12 : 9}
            markerHeight={kind === 'phase' ? 12 : 9}
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" className={`arrow arrow-${kind}`} />
          </marker>
        ))}
      </defs>
      {props.edges.map((edge) => (
        <path
          key={`${edge.kind}:${edge.from}:${edge.to}`}
          className={`edge edge-${edge.kind}`}
          d={pathOf(edge)}
          markerEnd={`url(#arrow-${edge.kind})`}
        />
      ))}
    </svg>
  );
}
