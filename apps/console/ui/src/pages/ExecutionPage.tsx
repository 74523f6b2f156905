import type { Task } from '@orchestra/contracts';
import { executionStatus } from '@orchestra/execution';
import { useCallback, useMemo } from 'react';
import type { SessionInfo } from '../../../src/model/api-types';
import { planGraph } from '../../../src/model/graph';
import { Progress, StatusBadge } from '../components/status';
import { Actions } from '../execution/Actions';
import { Graph } from '../execution/Graph';
import { History } from '../execution/History';
import { ReplayCheck } from '../execution/ReplayCheck';
import { TaskPanel } from '../execution/TaskPanel';
import { Timeline } from '../execution/Timeline';
import { useExecutionStore } from '../execution-store';
import { formatDateTime, formatDuration } from '../format';
import { useNow } from '../hooks';
import { Link, navigate, useLocation } from '../router';

type Tab = 'graph' | 'timeline' | 'history';

/** One execution, live: graph, timeline and history of its events, a task panel, and actions. */
export function ExecutionPage(props: { executionId: string; session: SessionInfo | null }) {
  const store = useExecutionStore(props.executionId);
  const { query } = useLocation();
  const tab = (
    ['graph', 'timeline', 'history'].includes(query.get('tab') ?? '') ? query.get('tab') : 'graph'
  ) as Tab;
  const selected = query.get('task');
  const { state, timeline, version } = store;
  const status = executionStatus(state);
  const running = status === 'running' || status === 'pending';
  const now = useNow(1000, running && state.started_at !== null);
  const graph = useMemo(
    () => (state.plan && state.index ? planGraph(state.plan, state.index) : null),
    [state.plan, state.index],
  );
  const cli = props.session?.cli ?? 'npx orchestra';

  const setQuery = useCallback((changes: Record<string, string | null>) => {
    const next = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) next.delete(key);
      else next.set(key, value);
    }
    const search = next.toString();
    navigate(`${location.pathname}${search ? `?${search}` : ''}`);
  }, []);
  const select = useCallback((taskId: string) => setQuery({ task: taskId }), [setQuery]);

  const tasks = Object.values(state.tasks);
  const counts = {
    total: tasks.length,
    successful: tasks.filter((t) => t.status === 'success').length,
    failed: tasks.filter((t) => t.status === 'failed').length,
    timeout: tasks.filter((t) => t.status === 'timeout').length,
    skipped: tasks.filter((t) => t.status === 'skipped').length,
    running: tasks.filter(
      (t) => t.status === 'running' || t.status === 'retry_wait' || t.status === 'attempt_failed',
    ).length,
  };
  const duration =
    state.started_at === null
      ? null
      : (state.finished_at ?? (running ? now : (timeline.last_at ?? now))) - state.started_at;
  const selectedTask = selected && state.plan ? findTask(state.plan.phases, selected) : null;

  return (
    <div className="page execution-page">
      <div className="breadcrumbs">
        <Link to="/">Executions</Link>
        <span>/</span>
        <span className="mono">{props.executionId}</span>
      </div>
      <section className="execution-header card">
        <div className="execution-title">
          <h1 className="mono">{props.executionId}</h1>
          {store.caughtUp ? <StatusBadge status={status} /> : <span className="muted">loading…</span>}
          <span className={`live-dot live-${store.connection}`} title={`event stream: ${store.connection}`}>
            {store.connection === 'live' ? 'live' : store.connection}
          </span>
        </div>
        <div className="execution-facts">
          <Fact label="Plan" value={state.plan?.plan_id ?? (state.rejection ? 'rejected' : '—')} mono />
          {state.rerun_of ? (
            <div className="fact">
              <span className="fact-label">Re-run of</span>
              <Link to={`/executions/${state.rerun_of}`} className="mono" testId="rerun-of">
                {state.rerun_of}
              </Link>
            </div>
          ) : null}
          <Fact label="Started" value={formatDateTime(state.started_at)} />
          <Fact label="Duration" value={formatDuration(duration)} />
          <div className="fact">
            <span className="fact-label">Tasks</span>
            <Progress row={counts} />
          </div>
          <div className="fact">
            <span className="fact-label">Replay</span>
            <ReplayCheck executionId={props.executionId} finished={store.caughtUp && !running} cli={cli} />
          </div>
        </div>
        <Actions
          executionId={props.executionId}
          status={store.caughtUp ? status : 'pending'}
          selectedTask={selectedTask ? `${selectedTask.phaseId}.${selectedTask.task.task_id}` : null}
          session={props.session}
        />
        {state.rejection ? (
          <div className="banner banner-error">
            Rejected: {state.rejection.reason}
            <ul className="issues">
              {state.rejection.issues.map((issue) => (
                <li key={`${issue.path}:${issue.message}`}>
                  <code>{issue.path}</code> {issue.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {state.stopping && (status === 'failed' || status === 'cancelled') ? (
          <div className="banner banner-warn">{state.stopping.reason}</div>
        ) : null}
      </section>

      <div className="tabs" role="tablist">
        {(['graph', 'timeline', 'history'] as Tab[]).map((name) => (
          <button
            type="button"
            role="tab"
            key={name}
            aria-selected={tab === name}
            className={tab === name ? 'tab active' : 'tab'}
            onClick={() => setQuery({ tab: name === 'graph' ? null : name })}
          >
            {name === 'graph'
              ? 'Graph'
              : name === 'timeline'
                ? 'Timeline'
                : `History (${store.history.length.toLocaleString()})`}
          </button>
        ))}
      </div>

      <div className={`execution-body${selectedTask ? ' with-panel' : ''}`}>
        <div className="execution-main card">
          {!store.caughtUp ? (
            <div className="graph-loading muted">
              Reading the event log… {store.history.length.toLocaleString()} events
            </div>
          ) : tab === 'history' ? (
            <History
              history={store.history}
              invalid={store.invalid}
              version={version}
              onSelectTask={select}
            />
          ) : !graph ? (
            <div className="graph-loading muted">
              {state.rejection
                ? 'The plan was rejected: nothing ran.'
                : 'Waiting for the execution to start…'}
            </div>
          ) : tab === 'graph' ? (
            <Graph
              graph={graph}
              tasks={state.tasks}
              phases={state.phases}
              version={version}
              selected={selected}
              onSelect={select}
            />
          ) : (
            <Timeline
              graph={graph}
              timeline={timeline}
              tasks={state.tasks}
              version={version}
              running={running}
              selected={selected}
              onSelect={select}
            />
          )}
        </div>
        {selectedTask ? (
          <TaskPanel
            task={selectedTask.task}
            phaseId={selectedTask.phaseId}
            state={state.tasks[selectedTask.task.task_id]}
            timeline={timeline.tasks.get(selectedTask.task.task_id)}
            onClose={() => setQuery({ task: null })}
          />
        ) : null}
      </div>
    </div>
  );
}

function Fact(props: { label: string; value: string; mono?: boolean }) {
  return (
    <div className="fact">
      <span className="fact-label">{props.label}</span>
      <span className={props.mono ? 'fact-value mono' : 'fact-value'}>{props.value}</span>
    </div>
  );
}

function findTask(phases: ReadonlyArray<{ phase_id: string; tasks: readonly Task[] }>, taskId: string) {
  for (const phase of phases) {
    const task = phase.tasks.find((t) => t.task_id === taskId);
    if (task) return { task, phaseId: phase.phase_id };
  }
  return null;
}
