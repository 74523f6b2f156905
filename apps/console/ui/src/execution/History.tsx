import type { ExecutionEvent } from '@orchestra/contracts';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import type { StreamInvalid } from '../../../src/model/api-types';
import { JsonView } from '../components/json-view';
import type { HistoryEntry } from '../execution-store';
import { formatClock, formatDuration } from '../format';

const ROW_HEIGHT = 34;

/**
 * The event log as stored: stream sequence, type, time, and each event's JSON. Rows are
 * virtualized; a filter narrows them to a type or a task.
 */
export function History(props: {
  history: HistoryEntry[];
  invalid: StreamInvalid[];
  version: number;
  onSelectTask(id: string): void;
}) {
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<HistoryEntry | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const origin = props.history[0]?.event.at ?? 0;
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    if (!needle) return props.history;
    return props.history.filter(({ event }) => {
      const task = 'task_id' in event ? event.task_id : '';
      const phase = 'phase_id' in event ? event.phase_id : '';
      return `${event.type} ${task} ${phase}`.toLowerCase().includes(needle);
    });
  }, [props.history, props.version, filter]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 16,
  });
  return (
    <div className="history">
      <div className="history-list">
        <div className="graph-toolbar">
          <input
            type="search"
            placeholder="Filter by type, task or phase…"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            aria-label="Filter events"
          />
          <span className="muted">
            {rows.length.toLocaleString()} of {props.history.length.toLocaleString()} events
          </span>
        </div>
        {props.invalid.length > 0 ? (
          <div className="banner banner-error">
            {props.invalid.length} stored message(s) are not valid events, e.g. #{props.invalid[0]?.seq}:{' '}
            {props.invalid[0]?.reason}
          </div>
        ) : null}
        <div className="history-head">
          <span className="col-seq">Seq</span>
          <span className="col-time">Time</span>
          <span className="col-offset">+</span>
          <span className="col-type">Event</span>
          <span className="col-subject">Task / phase</span>
          <span className="col-note">Details</span>
        </div>
        <div className="history-scroller" ref={scroller} data-testid="history-scroller">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => {
              const entry = rows[item.index] as HistoryEntry;
              const isSelected = selected?.seq === entry.seq && selected.index === entry.index;
              return (
                <button
                  type="button"
                  key={`${entry.seq}:${entry.index}`}
                  className={`history-row${isSelected ? ' selected' : ''}`}
                  style={{ transform: `translateY(${item.start}px)` }}
                  data-seq={entry.seq}
                  data-type={entry.event.type}
                  onClick={() => setSelected(entry)}
                >
                  <span className="col-seq mono">
                    #{entry.seq}
                    {entry.index > 0 ? `.${entry.index}` : ''}
                  </span>
                  <span className="col-time mono">{formatClock(entry.event.at)}</span>
                  <span className="col-offset mono muted">+{formatDuration(entry.event.at - origin)}</span>
                  <span className="col-type">
                    <span className={`event-chip event-${category(entry.event)}`}>{entry.event.type}</span>
                  </span>
                  <span
                    className="col-subject mono"
                    title={'phase_id' in entry.event ? `phase ${entry.event.phase_id}` : ''}
                  >
                    {subject(entry.event)}
                  </span>
                  <span className="col-note">{note(entry.event)}</span>
                </button>
              );
            })}
          </div>
        </div>
      </div>
      <aside className="history-detail">
        {selected ? (
          <>
            <div className="detail-head">
              <strong>{selected.event.type}</strong>
              <span className="muted mono">
                seq {selected.seq}
                {selected.index > 0 ? ` (event ${selected.index + 1} of its record)` : ''}
              </span>
              {'task_id' in selected.event ? (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => 'task_id' in selected.event && props.onSelectTask(selected.event.task_id)}
                >
                  Open task
                </button>
              ) : null}
            </div>
            <JsonView value={selected.event} />
          </>
        ) : (
          <div className="muted detail-empty">Select an event to see its JSON.</div>
        )}
      </aside>
    </div>
  );
}

function category(event: ExecutionEvent): string {
  switch (event.type) {
    case 'TaskSucceeded':
    case 'TaskReused':
    case 'ExecutionStarted':
      return 'good';
    case 'TaskFailed':
    case 'TaskTimedOut':
    case 'TaskGaveUp':
    case 'ExecutionRejected':
      return 'bad';
    case 'TaskRetryScheduled':
    case 'OutcomeIgnored':
    case 'TaskSkipped':
    case 'ExecutionCancelled':
      return 'warn';
    case 'ExecutionFinished':
      return event.status === 'completed' ? 'good' : event.status === 'partial' ? 'warn' : 'bad';
    default:
      return 'info';
  }
}

function subject(event: ExecutionEvent): string {
  if ('task_id' in event) return event.task_id;
  if ('phase_id' in event) return event.phase_id;
  return '';
}

function note(event: ExecutionEvent): string {
  switch (event.type) {
    case 'ExecutionStarted':
      return `plan ${event.plan.plan_id}, ${event.plan.phases.length} phases${event.rerun_of ? `, re-run of ${event.rerun_of}` : ''}`;
    case 'TaskReused':
      return `output of ${event.source_execution_id} #${event.source_seq}`;
    case 'TaskDispatched':
      return `attempt ${event.attempt_number} (${event.kind}) → ${event.plugin}`;
    case 'TaskSucceeded':
      return `attempt ${event.attempt_number} on ${event.plugin_used}, ${formatDuration(event.duration_ms)}`;
    case 'TaskFailed':
      return `attempt ${event.attempt_number}: ${event.error}`;
    case 'TaskTimedOut':
      return `attempt ${event.attempt_number} after ${formatDuration(event.duration_ms)}`;
    case 'TaskRetryScheduled':
      return `attempt ${event.next_attempt_number} in ${formatDuration(event.delay_ms)}`;
    case 'TaskSkipped':
    case 'TaskGaveUp':
    case 'OutcomeIgnored':
    case 'ExecutionCancelled':
    case 'ExecutionRejected':
      return event.reason;
    case 'PhaseFinished':
    case 'ExecutionFinished':
      return event.status;
    default:
      return '';
  }
}
