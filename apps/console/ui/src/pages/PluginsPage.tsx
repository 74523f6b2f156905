import { Fragment, useEffect, useState } from 'react';
import type { PluginsView, SessionInfo } from '../../../src/model/api-types';
import { getJson } from '../api';
import { CliHint } from '../components/cli-hint';

const REFRESH_MS = 3_000;

/**
 * The live workers of each plugin, as `orchestra plugins` lists them: workers announce
 * themselves with the NATS service API, so this asks them again every few seconds.
 */
export function PluginsPage(props: { session: SessionInfo | null }) {
  const [view, setView] = useState<PluginsView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    let active = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      getJson<PluginsView>('/api/plugins').then(
        (next) => {
          if (!active) return;
          setView(next);
          setError(null);
          timer = setTimeout(load, REFRESH_MS);
        },
        (failure: unknown) => {
          if (!active) return;
          setError(failure instanceof Error ? failure.message : String(failure));
          timer = setTimeout(load, REFRESH_MS);
        },
      );
    void load();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, []);
  const workers = view?.plugins.reduce((sum, plugin) => sum + plugin.workers.length, 0) ?? 0;
  return (
    <div className="page plugins-page">
      <div className="page-header">
        <div>
          <h1>Plugins</h1>
          <p className="muted">
            {view
              ? `${view.plugins.length} plugin(s) served by ${workers} live worker(s)`
              : 'Asking the workers…'}{' '}
            · refreshed every {REFRESH_MS / 1000} s
          </p>
        </div>
        <CliHint command={`${props.session?.cli ?? 'npx orchestra'} plugins`} />
      </div>
      {error ? <div className="banner banner-error">{error}</div> : null}
      {view && view.without_worker.length > 0 ? (
        <div className="banner banner-warn" data-testid="without-worker">
          Ran tasks before, no live worker now: {view.without_worker.join(', ')}. Their tasks wait for a
          worker, or time out.
        </div>
      ) : null}
      {view && view.plugins.length === 0 ? (
        <div className="empty-state">
          <h2>No live worker</h2>
          <p className="muted">
            Start one with `orchestra up` (the built-in plugin) or `orchestra up --plugins`.
          </p>
        </div>
      ) : (
        <div className="table-card">
          <table className="executions-table plugins-table">
            <thead>
              <tr>
                <th>Plugin</th>
                <th>Kind</th>
                <th className="num">Workers</th>
                <th className="num">Concurrency</th>
                <th>In flight</th>
                <th className="num">Processed</th>
                <th className="num">Failed</th>
              </tr>
            </thead>
            <tbody>
              {view?.plugins.map((plugin) => (
                <Fragment key={plugin.plugin}>
                  <tr
                    className="clickable"
                    data-plugin={plugin.plugin}
                    onClick={() => setOpen(open === plugin.plugin ? null : plugin.plugin)}
                  >
                    <td className="mono">{plugin.plugin}</td>
                    <td>
                      <span className="kind-tag">{plugin.kind}</span>
                    </td>
                    <td className="num" data-testid="worker-count">
                      {plugin.workers.length}
                    </td>
                    <td className="num">{plugin.concurrency || '—'}</td>
                    <td>
                      <Load busy={plugin.in_flight} of={plugin.concurrency} />
                    </td>
                    <td className="num">{plugin.processed.toLocaleString()}</td>
                    <td className="num">{plugin.failed.toLocaleString()}</td>
                  </tr>
                  {open === plugin.plugin
                    ? plugin.workers.map((worker) => (
                        <tr key={worker.id} className="worker-row">
                          <td className="mono muted" colSpan={2}>
                            ↳ {worker.instance}
                          </td>
                          <td className="num muted">v{worker.version}</td>
                          <td className="num">{worker.concurrency ?? '—'}</td>
                          <td>
                            <Load busy={worker.in_flight ?? 0} of={worker.concurrency ?? 0} />
                          </td>
                          <td className="num">{worker.processed?.toLocaleString() ?? '—'}</td>
                          <td className="num">{worker.failed?.toLocaleString() ?? '—'}</td>
                        </tr>
                      ))
                    : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Load(props: { busy: number; of: number }) {
  const share = props.of > 0 ? Math.min(1, props.busy / props.of) : 0;
  return (
    <div className="progress" title={`${props.busy} running of ${props.of || '?'} slots`}>
      <div className="progress-track">
        <span className="progress-part part-running" style={{ width: `${share * 100}%` }} />
      </div>
      <span className="progress-label">
        {props.busy}/{props.of || '?'}
      </span>
    </div>
  );
}
