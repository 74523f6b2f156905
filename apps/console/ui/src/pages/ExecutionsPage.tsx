import { EXECUTION_STATUSES } from '@orchestra/contracts';
import { useCallback, useEffect, useState } from 'react';
import type { ExecutionPage, ExecutionSummary, Facets, SessionInfo } from '../../../src/model/api-types';
import { getJson } from '../api';
import { FirstRun } from '../components/first-run';
import { Progress, StatusBadge, statusLabel } from '../components/status';
import { formatCount, formatDateTime, formatDuration, formatRelative } from '../format';
import { useDebounced, useNow } from '../hooks';
import { Link, navigate, useLocation } from '../router';
import { useLiveRows } from './live-rows';

const PAGE_SIZE = 50;

/** Executions, newest first: filtered and paged by the server's index, kept live by its change stream. */
export function ExecutionsPage(props: { session: SessionInfo | null }) {
  const { query } = useLocation();
  const statuses = (query.get('status') ?? '').split(',').filter(Boolean);
  const plan = query.get('plan') ?? '';
  const plugin = query.get('plugin') ?? '';
  const [text, setText] = useState(query.get('q') ?? '');
  const q = useDebounced(text, 250);
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<ExecutionPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [facets, setFacets] = useState<Facets>({ plans: [], plugins: [] });
  const [refresh, setRefresh] = useState(0);
  const now = useNow(1000, page?.items.some((row) => row.status === 'running') ?? false);
  const before = cursors[cursors.length - 1] ?? null;

  const setFilter = useCallback((name: string, value: string) => {
    const next = new URLSearchParams(location.search);
    if (value) next.set(name, value);
    else next.delete(name);
    const search = next.toString();
    navigate(`/${search ? `?${search}` : ''}`);
    setCursors([]);
  }, []);

  useEffect(() => {
    if (q !== (new URLSearchParams(location.search).get('q') ?? '')) setFilter('q', q);
  }, [q, setFilter]);

  const params = new URLSearchParams();
  if (statuses.length > 0) params.set('status', statuses.join(','));
  if (plan) params.set('plan', plan);
  if (plugin) params.set('plugin', plugin);
  if (q) params.set('q', q);
  params.set('limit', String(PAGE_SIZE));
  if (before) params.set('before', before);
  const request = params.toString();

  useEffect(() => {
    const abort = new AbortController();
    getJson<ExecutionPage>(`/api/executions?${request}`, abort.signal).then(
      (next) => {
        setPage(next);
        setError(null);
      },
      (failure: unknown) => {
        if (!abort.signal.aborted) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => abort.abort();
  }, [request, refresh]);

  useEffect(() => {
    getJson<Facets>('/api/facets').then(setFacets, () => undefined);
  }, []);

  useLiveRows(page, setPage, before === null, () => setRefresh((n) => n + 1));

  const toggleStatus = (status: string) => {
    const next = statuses.includes(status) ? statuses.filter((s) => s !== status) : [...statuses, status];
    setFilter('status', next.join(','));
  };
  const filtered = statuses.length > 0 || plan || plugin || q;
  const first = cursors.length * PAGE_SIZE + 1;

  return (
    <div className="page executions-page">
      <div className="page-header">
        <div>
          <h1>Executions</h1>
          <p className="muted">
            {page ? `${formatCount(page.indexed)} in the results bucket` : 'Loading…'} · updated live
          </p>
        </div>
        <Link to="/submit" className="button primary">
          Submit a plan
        </Link>
      </div>
      <div className="filters">
        <fieldset className="chips" aria-label="Status">
          {EXECUTION_STATUSES.map((status) => (
            <button
              type="button"
              key={status}
              className={statuses.includes(status) ? `chip chip-on status-${status}` : 'chip'}
              aria-pressed={statuses.includes(status)}
              onClick={() => toggleStatus(status)}
            >
              {statusLabel(status)}
            </button>
          ))}
        </fieldset>
        <div className="filter-fields">
          <select value={plan} onChange={(e) => setFilter('plan', e.target.value)} aria-label="Plan">
            <option value="">All plans</option>
            {facets.plans.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
          <select value={plugin} onChange={(e) => setFilter('plugin', e.target.value)} aria-label="Plugin">
            <option value="">All plugins</option>
            {facets.plugins.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
          <input
            type="search"
            placeholder="Search id, plan, error…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-label="Search"
          />
        </div>
      </div>
      {error ? <div className="banner banner-error">{error}</div> : null}
      {page && page.items.length === 0 ? (
        filtered ? (
          <div className="empty-state">
            <h2>No execution matches</h2>
            <button type="button" className="button" onClick={() => navigate('/')}>
              Clear the filters
            </button>
          </div>
        ) : (
          <FirstRun session={props.session} />
        )
      ) : (
        <div className="table-card">
          <table className="executions-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Execution</th>
                <th>Plan</th>
                <th>Started</th>
                <th className="num">Duration</th>
                <th>Progress</th>
                <th>Plugins</th>
              </tr>
            </thead>
            <tbody>
              {page?.items.map((row) => (
                <Row key={row.execution_id} row={row} now={now} />
              ))}
            </tbody>
          </table>
          <div className="pager">
            <span className="muted">
              {page && page.total > 0
                ? `${formatCount(first)}–${formatCount(first + page.items.length - 1)} of ${formatCount(page.total)}`
                : ''}
            </span>
            <div className="pager-buttons">
              <button
                type="button"
                className="button"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                ← Newer
              </button>
              <button
                type="button"
                className="button"
                disabled={!page?.next}
                onClick={() => page?.next && setCursors([...cursors, page.next])}
              >
                Older →
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function Row(props: { row: ExecutionSummary; now: number }) {
  const { row, now } = props;
  const duration =
    row.duration_ms ?? (row.started_at !== null && row.status === 'running' ? now - row.started_at : null);
  const href = `/executions/${row.execution_id}`;
  return (
    <tr className="clickable" data-execution-id={row.execution_id} onClick={() => navigate(href)}>
      <td>
        <StatusBadge status={row.status} />
      </td>
      <td className="mono">
        <Link to={href}>{row.execution_id}</Link>
      </td>
      <td className="mono">{row.plan_id ?? '—'}</td>
      <td title={formatDateTime(row.started_at)}>{formatRelative(row.started_at, now)}</td>
      <td className="num">{formatDuration(duration)}</td>
      <td>
        <Progress row={row} />
      </td>
      <td className="plugins-cell">{row.plugins.join(', ') || '—'}</td>
    </tr>
  );
}
