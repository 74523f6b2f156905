import { useEffect, useState } from 'react';
import type { ReplayCheck as ReplayResult } from '../../../src/model/api-types';
import { getJson } from '../api';
import { CliHint } from '../components/cli-hint';

/**
 * `orchestra replay` in the page: the server folds the stored log with the services' own fold
 * and compares the results with the stored ones. Runs by itself once the execution has ended.
 */
export function ReplayCheck(props: { executionId: string; finished: boolean; cli: string }) {
  const [result, setResult] = useState<ReplayResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  const run = async (attempt = 0) => {
    setBusy(true);
    try {
      const next = await getJson<ReplayResult>(`/api/executions/${props.executionId}/replay`);
      // The results service writes a moment after the last event: ask again shortly.
      if (!next.matches && next.chain.ok && attempt < 5) {
        setTimeout(() => void run(attempt + 1), 600);
        return;
      }
      setResult(next);
      setError(null);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
    setBusy(false);
  };
  useEffect(() => {
    if (props.finished) void run();
  }, [props.finished]);
  const chain = result?.chain;
  const good = result?.matches === true && chain?.ok === true;
  const state = result ? (good ? 'ok' : 'bad') : error ? 'bad' : 'idle';
  const label = busy
    ? 'Replaying…'
    : result
      ? !result.stored
        ? 'Replay: no stored results yet'
        : !chain?.ok
          ? `✗ Chain broken at #${chain?.first_problem?.seq ?? '?'}`
          : result.matches
            ? `✓ Replay matches · chain verified`
            : '✗ Replay differs'
      : error
        ? 'Replay failed'
        : 'Check replay';
  return (
    <div className="replay">
      <button
        type="button"
        className={`replay-badge replay-${state}`}
        data-testid="replay-check"
        data-matches={result ? String(result.matches) : ''}
        data-chain={chain ? String(chain.ok) : ''}
        onClick={() => (result ? setOpen(!open) : void run())}
        disabled={busy}
      >
        {label}
      </button>
      {open && result && chain ? (
        <div className="replay-detail" data-testid="replay-detail">
          <p>
            {result.matches
              ? `The execution_results recomputed from the ${result.events} events with the services’ fold equal the stored ones.`
              : 'Recomputed and stored execution_results differ at:'}
          </p>
          {result.differences.length > 0 ? (
            <ul className="mono">
              {result.differences.map((path) => (
                <li key={path}>{path}</li>
              ))}
            </ul>
          ) : null}
          <p>
            {chain.ok
              ? `Hash chain of the ${chain.records} stored records verified${
                  chain.signatures_checked
                    ? `, with ${chain.signatures_verified} signatures by a trusted key`
                    : '; signatures not checked (this console trusts no signing key)'
                }${chain.ends_with_finish ? ', up to the execution’s end.' : '.'}`
              : `Record #${chain.first_problem?.seq}: ${chain.first_problem?.problem}.`}
          </p>
          <CliHint command={`${props.cli} replay ${props.executionId}`} />
        </div>
      ) : null}
      {error ? <span className="muted">{error}</span> : null}
    </div>
  );
}
