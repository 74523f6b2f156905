import type { ExecutionStatus } from '@orchestra/contracts';
import { useState } from 'react';
import type { ActionResponse, RerunResponse, SessionInfo } from '../../../src/model/api-types';
import { rerunCommand } from '../../../src/model/commands';
import { postJson, RequestError } from '../api';
import { CliHint } from '../components/cli-hint';
import { navigate } from '../router';

type Open = 'none' | 'cancel' | 'rerun';

/** What can be done to an execution, each with its command-line equivalent. */
export function Actions(props: {
  executionId: string;
  status: ExecutionStatus;
  /** The task open in the panel (`phase_id.task_id`): offered as one to run again. */
  selectedTask: string | null;
  session: SessionInfo | null;
}) {
  const [open, setOpen] = useState<Open>('none');
  const [reason, setReason] = useState('');
  const [tasks, setTasks] = useState('');
  const [done, setDone] = useState<ActionResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cli = props.session?.cli ?? 'npx orchestra';
  const capabilities = props.session?.capabilities;
  const running = props.status === 'running' || props.status === 'pending';
  const finished = !running && props.status !== 'rejected';
  const paths = tasks
    .split(/[\s,]+/)
    .map((path) => path.trim())
    .filter(Boolean);

  const act = async (run: () => Promise<void>) => {
    try {
      await run();
      setError(null);
    } catch (failure) {
      const issues = failure instanceof RequestError ? (failure.body.issues ?? []) : [];
      const detail = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      setError(
        `${failure instanceof Error ? failure.message : String(failure)}${detail ? ` — ${detail}` : ''}`,
      );
    }
  };
  const cancel = () =>
    act(async () => {
      const trimmed = reason.trim();
      const body = trimmed ? { reason: trimmed } : {};
      setDone(await postJson<ActionResponse>(`/api/executions/${props.executionId}/cancel`, body));
      setOpen('none');
    });
  const rerun = () =>
    act(async () => {
      const body = paths.length > 0 ? { tasks: paths } : {};
      const reply = await postJson<RerunResponse>(`/api/executions/${props.executionId}/rerun`, body);
      navigate(`/executions/${reply.execution_id}`);
    });

  return (
    <div className="actions">
      {open === 'none' && !done ? (
        <div className="action-buttons">
          {capabilities?.rerun && finished ? (
            <button type="button" className="button" onClick={() => setOpen('rerun')}>
              Re-run from failure
            </button>
          ) : null}
          {capabilities?.cancel && running ? (
            <button type="button" className="button danger" onClick={() => setOpen('cancel')}>
              Cancel execution
            </button>
          ) : null}
        </div>
      ) : null}
      {open === 'cancel' ? (
        <div className="confirm">
          <input
            type="text"
            placeholder="Reason (optional)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-label="Reason"
          />
          <button type="button" className="button danger" onClick={cancel}>
            Yes, cancel it
          </button>
          <button type="button" className="button" onClick={() => setOpen('none')}>
            Keep running
          </button>
          <CliHint command={`${cli} cancel ${props.executionId}`} />
        </div>
      ) : null}
      {open === 'rerun' ? (
        <div className="confirm rerun-panel">
          <p className="muted">
            A new execution reuses the outputs of the tasks that succeeded; the others, and everything that
            depends on them, run again. Name succeeded tasks to run them again too.
          </p>
          <input
            type="text"
            placeholder="phase_id.task_id, … (optional)"
            value={tasks}
            onChange={(e) => setTasks(e.target.value)}
            aria-label="Tasks to run again"
          />
          {props.selectedTask && !paths.includes(props.selectedTask) ? (
            <button
              type="button"
              className="link-button"
              onClick={() => setTasks([...paths, props.selectedTask].join(', '))}
            >
              + {props.selectedTask}
            </button>
          ) : null}
          <button type="button" className="button primary" onClick={rerun}>
            Re-run
          </button>
          <button type="button" className="button" onClick={() => setOpen('none')}>
            Close
          </button>
          <CliHint command={rerunCommand(cli, props.executionId, paths)} />
        </div>
      ) : null}
      {done ? <CliHint label="Cancel requested — CLI" command={done.cli} /> : null}
      {error ? <div className="banner banner-error">{error}</div> : null}
    </div>
  );
}
