import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../src/model/api-types';
import { loadSession, RequestError } from './api';
import { ExecutionPage } from './pages/ExecutionPage';
import { ExecutionsPage } from './pages/ExecutionsPage';
import { PluginsPage } from './pages/PluginsPage';
import { SubmitPage } from './pages/SubmitPage';
import { Link, useLocation } from './router';

export function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    loadSession().then(setSession, (error: unknown) =>
      setProblem(error instanceof RequestError ? error.message : 'the console server does not answer'),
    );
  }, []);
  const execution = /^\/executions\/([A-Za-z0-9_-]+)$/.exec(path);
  const section =
    execution || path === '/'
      ? 'executions'
      : path === '/submit'
        ? 'submit'
        : path === '/plugins'
          ? 'plugins'
          : 'other';
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={26} height={26} />
          <span>Orchestra</span>
          <span className="brand-sub">console</span>
        </Link>
        <nav className="nav">
          <Link to="/" className={section === 'executions' ? 'nav-item active' : 'nav-item'}>
            Executions
          </Link>
          {session?.capabilities.submit !== false ? (
            <Link to="/submit" className={section === 'submit' ? 'nav-item active' : 'nav-item'}>
              Submit a plan
            </Link>
          ) : null}
          {session?.capabilities.plugins ? (
            <Link to="/plugins" className={section === 'plugins' ? 'nav-item active' : 'nav-item'}>
              Plugins
            </Link>
          ) : null}
        </nav>
      </header>
      <main className="content">
        {problem ? <div className="banner banner-error">{problem}</div> : null}
        {execution ? (
          <ExecutionPage key={execution[1]} executionId={execution[1] as string} session={session} />
        ) : path === '/submit' ? (
          <SubmitPage session={session} />
        ) : path === '/plugins' ? (
          <PluginsPage session={session} />
        ) : path === '/' ? (
          <ExecutionsPage session={session} />
        ) : (
          <div className="empty-state">
            <h2>Nothing here</h2>
            <Link to="/">Back to the executions</Link>
          </div>
        )}
      </main>
    </div>
  );
}
