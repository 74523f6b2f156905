import type { Task } from '@orchestra/contracts';
import type { TaskState } from '@orchestra/execution';
import { type Attempt, attemptSegments, type TaskTimeline, type Usage } from '../../../src/model/timeline';
import { JsonView } from '../components/json-view';
import { StatusBadge } from '../components/status';
import { formatClock, formatDuration } from '../format';
import { Link } from '../router';

/**
 * One task: what it was asked (the resolved input of its last attempt), what it answered, every
 * attempt with its plugin and outcome, and the tokens an agent plugin spent.
 */
export function TaskPanel(props: {
  task: Task;
  phaseId: string;
  state: TaskState | undefined;
  timeline: TaskTimeline | undefined;
  onClose(): void;
}) {
  const { task, state, timeline } = props;
  const attempts = timeline?.attempts ?? [];
  const last = attempts[attempts.length - 1];
  const usage = totalUsage(attempts);
  return (
    <aside className="task-panel" data-testid="task-panel" data-task-id={task.task_id}>
      <div className="panel-head">
        <div>
          <div className="panel-title mono">{task.task_id}</div>
          <div className="muted">phase {props.phaseId}</div>
        </div>
        <StatusBadge status={state?.status ?? 'pending'} />
        <button type="button" className="icon-button" onClick={props.onClose} title="Close">
          ✕
        </button>
      </div>
      {task.description ? <p className="panel-description">{task.description}</p> : null}
      <dl className="facts">
        <dt>Plugin</dt>
        <dd className="mono">{task.assigned_plugin}</dd>
        {task.fallback_plugin ? (
          <>
            <dt>Fallback</dt>
            <dd className="mono">{task.fallback_plugin}</dd>
          </>
        ) : null}
        <dt>Entry point</dt>
        <dd className="mono">
          {task.entry_point.type}: {task.entry_point.value}
        </dd>
        <dt>Retries</dt>
        <dd>
          {task.retries} · timeout {formatDuration(task.timeout_ms)}
        </dd>
        <dt>Used</dt>
        <dd className="mono">{state?.plugin ?? '—'}</dd>
        {usage ? (
          <>
            <dt>Tokens</dt>
            <dd data-testid="usage">
              {usage.input_tokens ?? 0} in · {usage.output_tokens ?? 0} out
              {usage.model ? ` · ${usage.model}` : ''}
              {usage.finish_reason ? ` · ${usage.finish_reason}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Attempts ({attempts.length})</h3>
      {attempts.length === 0 ? (
        <p className="muted">{state?.reused_from ? 'None in this execution.' : 'Not dispatched yet.'}</p>
      ) : null}
      <ol className="attempts">
        {attempts.map((attempt) => (
          <AttemptItem key={attempt.attempt_number} attempt={attempt} />
        ))}
      </ol>
      {state?.reused_from ? (
        <div className="banner banner-info" data-testid="reused-from">
          Reused: the output of{' '}
          <Link to={`/executions/${state.reused_from.execution_id}?task=${task.task_id}`} className="mono">
            {state.reused_from.execution_id}
          </Link>{' '}
          (record #{state.reused_from.seq}); this re-run did not run it.
        </div>
      ) : null}
      {timeline?.skipped ? (
        <div className="banner banner-warn">Skipped: {timeline.skipped.reason}</div>
      ) : null}
      {timeline?.gave_up ? (
        <div className="banner banner-error">Gave up: {timeline.gave_up.reason}</div>
      ) : null}
      {state?.error ? (
        <>
          <h3>Error</h3>
          <pre className="error-text">{state.error}</pre>
        </>
      ) : null}
      <h3>Output</h3>
      <JsonView value={state?.status === 'success' ? state.output : undefined} empty="no output yet" />
      <h3>Resolved input</h3>
      <JsonView
        value={last?.input_context ?? state?.input_context ?? undefined}
        empty={state?.reused_from ? 'not run in this re-run' : 'resolved when the task is dispatched'}
      />
    </aside>
  );
}

function AttemptItem(props: { attempt: Attempt }) {
  const { attempt } = props;
  const segments = attemptSegments(attempt);
  return (
    <li className={`attempt outcome-${attempt.outcome}`}>
      <div className="attempt-line">
        <strong>#{attempt.attempt_number}</strong>
        <span className={`kind-tag kind-${attempt.kind}`}>{attempt.kind}</span>
        <span className="mono">{attempt.plugin}</span>
        <span className="attempt-outcome">{attempt.outcome.replace('_', ' ')}</span>
      </div>
      <div className="muted attempt-times">
        dispatched {formatClock(attempt.dispatched_at)}
        {segments
          ? ` · queued ${formatDuration(segments.queued_ms)} · ran ${formatDuration(segments.run_ms)}`
          : attempt.ended_at !== null
            ? ` · no outcome for ${formatDuration(attempt.ended_at - attempt.dispatched_at)}`
            : ''}
      </div>
      {attempt.error ? (
        <div className="attempt-error">
          {attempt.error_code ? `[${attempt.error_code}] ` : ''}
          {attempt.error}
          {attempt.retryable ? '' : ' (not retryable)'}
        </div>
      ) : null}
    </li>
  );
}

function totalUsage(attempts: Attempt[]): Usage | null {
  const used = attempts.map((a) => a.usage).filter((u): u is Usage => u !== null);
  if (used.length === 0) return null;
  const last = used[used.length - 1] as Usage;
  return {
    ...last,
    input_tokens: used.reduce((sum, u) => sum + (u.input_tokens ?? 0), 0),
    output_tokens: used.reduce((sum, u) => sum + (u.output_tokens ?? 0), 0),
  };
}
