import type { ExecutionSummary } from '../../../src/model/api-types';

/** Words and colours of every status on every page (the fold's task statuses included). */
const LABELS: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  completed: 'Completed',
  partial: 'Partial',
  failed: 'Failed',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  success: 'Succeeded',
  skipped: 'Skipped',
  timeout: 'Timed out',
  attempt_failed: 'Attempt failed',
  retry_wait: 'Waiting to retry',
  finished: 'Finished',
};

export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

export function StatusBadge(props: { status: string; compact?: boolean }) {
  return (
    <span className={`badge status-${props.status}`} data-status={props.status}>
      <span className="badge-dot" aria-hidden="true" />
      {props.compact ? null : statusLabel(props.status)}
    </span>
  );
}

/** Done tasks split by outcome, with the running ones after them. */
export function Progress(props: {
  row: Pick<ExecutionSummary, 'total' | 'successful' | 'failed' | 'skipped' | 'timeout' | 'running'>;
}) {
  const { total, successful, failed, skipped, timeout, running } = props.row;
  const share = (n: number) => `${total === 0 ? 0 : (n / total) * 100}%`;
  const done = successful + failed + skipped + timeout;
  return (
    <div className="progress" title={`${done} of ${total} tasks done`}>
      <div className="progress-track">
        <span className="progress-part part-success" style={{ width: share(successful) }} />
        <span className="progress-part part-failed" style={{ width: share(failed + timeout) }} />
        <span className="progress-part part-skipped" style={{ width: share(skipped) }} />
        <span className="progress-part part-running" style={{ width: share(running) }} />
      </div>
      <span className="progress-label">
        {done}/{total}
      </span>
    </div>
  );
}
