import type { Issue } from '@orchestra/contracts';
import { useEffect, useState } from 'react';
import type { ActionResponse, SessionInfo, ValidateResponse } from '../../../src/model/api-types';
import { getJson, postJson, RequestError } from '../api';
import { CliHint } from '../components/cli-hint';
import { useDebounced } from '../hooks';
import { navigate } from '../router';

interface Example {
  name: string;
  text: string;
}

/**
 * Paste a plan (YAML or JSON): the server checks it with the contracts' parsePlan as you type,
 * every problem listed with its path, and Submit stores the ExecutePlan command.
 */
export function SubmitPage(props: { session: SessionInfo | null }) {
  const [text, setText] = useState('');
  const [executionId, setExecutionId] = useState('');
  const [examples, setExamples] = useState<Example[]>([]);
  const [validation, setValidation] = useState<ValidateResponse | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<{ message: string; issues: Issue[] } | null>(null);
  const settled = useDebounced(text, 300);
  const cli = props.session?.cli ?? 'npx orchestra';

  useEffect(() => {
    getJson<Example[]>('/api/examples').then(setExamples, () => undefined);
  }, []);
  useEffect(() => {
    if (!settled.trim()) {
      setValidation(null);
      return;
    }
    let current = true;
    postJson<ValidateResponse>('/api/plans/validate', { text: settled }).then(
      (result) => current && setValidation(result),
      (failure: unknown) => current && setError({ message: String(failure), issues: [] }),
    );
    return () => {
      current = false;
    };
  }, [settled]);

  const submit = async () => {
    setSubmitting(true);
    setError(null);
    try {
      const id = executionId.trim();
      const result = await postJson<ActionResponse>('/api/plans', {
        text,
        ...(id ? { execution_id: id } : {}),
      });
      navigate(`/executions/${result.execution_id}`);
    } catch (failure) {
      if (failure instanceof RequestError)
        setError({ message: failure.message, issues: failure.body.issues ?? [] });
      else setError({ message: String(failure), issues: [] });
    } finally {
      setSubmitting(false);
    }
  };

  const issues = validation?.issues ?? [];
  const valid = validation?.ok === true && settled === text;
  const idPart = executionId.trim() ? ` --id ${executionId.trim()}` : '';
  return (
    <div className="page submit-page">
      <div className="page-header">
        <div>
          <h1>Submit a plan</h1>
          <p className="muted">
            Paste YAML or JSON. It is checked as you type; nothing runs until you submit.
          </p>
        </div>
        <select
          aria-label="Load an example"
          value=""
          onChange={(e) => {
            const example = examples.find((x) => x.name === e.target.value);
            if (example) setText(example.text);
          }}
        >
          <option value="">Load an example…</option>
          {examples.map((example) => (
            <option key={example.name} value={example.name}>
              {example.name}
            </option>
          ))}
        </select>
      </div>
      <div className="submit-layout">
        <textarea
          className="plan-editor mono"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={
            'plan_id: my-plan\nphases:\n  - phase_id: first\n    tasks:\n      - task_id: hello\n        assigned_plugin: builtin\n        entry_point: { type: function, value: echo }\n        input_context: { greeting: hello }'
          }
          aria-label="Plan"
          data-testid="plan-editor"
        />
        <div className="submit-side card">
          <h3>Check</h3>
          {!text.trim() ? (
            <p className="muted">Paste a plan or load an example.</p>
          ) : !validation || settled !== text ? (
            <p className="muted">Checking…</p>
          ) : validation.ok && validation.plan ? (
            <p className="valid" data-testid="plan-valid">
              ✓ Valid: <span className="mono">{validation.plan.plan_id}</span>, {validation.plan.phases}{' '}
              phase(s), {validation.plan.tasks} task(s)
            </p>
          ) : (
            <ul className="issues" data-testid="plan-issues">
              {issues.map((issue) => (
                <li key={`${issue.path}:${issue.message}`}>
                  <code>{issue.path}</code> {issue.message}
                </li>
              ))}
            </ul>
          )}
          <label className="field">
            <span>Execution id (optional)</span>
            <input
              type="text"
              value={executionId}
              onChange={(e) => setExecutionId(e.target.value)}
              placeholder="generated when empty"
            />
          </label>
          <button type="button" className="button primary" disabled={!valid || submitting} onClick={submit}>
            {submitting ? 'Submitting…' : 'Submit'}
          </button>
          <CliHint command={`${cli} run plan.yaml${idPart}`} />
          {error ? (
            <div className="banner banner-error">
              {error.message}
              {error.issues.length > 0 ? (
                <ul className="issues">
                  {error.issues.map((issue) => (
                    <li key={`${issue.path}:${issue.message}`}>
                      <code>{issue.path}</code> {issue.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </div>
      </div>
    </div>
  );
}
