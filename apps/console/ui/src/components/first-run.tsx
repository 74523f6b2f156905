import { useState } from 'react';
import type { ActionResponse, SessionInfo } from '../../../src/model/api-types';
import { getJson, postJson, RequestError } from '../api';
import { Link, navigate } from '../router';
import { CliHint } from './cli-hint';

/** An empty bucket: how to start, with the demo one click away. */
export function FirstRun(props: { session: SessionInfo | null }) {
  const [submitted, setSubmitted] = useState<ActionResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const runDemo = async () => {
    try {
      const examples = await getJson<Array<{ name: string; text: string }>>('/api/examples');
      const demo = examples.find((example) => example.name === 'due-diligence.yaml') ?? examples[0];
      if (!demo) throw new Error('no example plan is installed next to the console');
      const result = await postJson<ActionResponse>('/api/plans', { text: demo.text });
      setSubmitted(result);
      navigate(`/executions/${result.execution_id}`);
    } catch (failure) {
      setError(
        failure instanceof RequestError || failure instanceof Error ? failure.message : String(failure),
      );
    }
  };
  return (
    <div className="empty-state">
      <h2>No executions yet</h2>
      <p className="muted">
        Run the seed's due-diligence example: three phases, a retry and a fallback, live.
      </p>
      <div className="empty-actions">
        <button type="button" className="button primary" onClick={runDemo}>
          Run the demo plan
        </button>
        <Link to="/submit" className="button">
          Paste a plan
        </Link>
      </div>
      <CliHint command={`${props.session?.cli ?? 'npx orchestra'} run examples/due-diligence.yaml --watch`} />
      {submitted ? <CliHint command={submitted.cli} /> : null}
      {error ? <div className="banner banner-error">{error}</div> : null}
    </div>
  );
}
