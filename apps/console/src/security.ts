import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SESSION_COOKIE = 'orchestra_console_session';
const SESSION_MAX_AGE_S = 12 * 60 * 60;
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** Probes and scrapers reach these without a token; they say nothing about executions. */
const OPEN_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Page-wide protections: a Content-Security-Policy that lets only the console's own scripts
 * run (with React escaping every value, this is the second wall against a plan or a plugin
 * that puts markup in a value), no framing, no referrer, no sniffing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
    "connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface Guard {
  /** Express-style middleware: answers the request itself when it must not go on. */
  handle(request: IncomingMessage, response: ServerResponse, next: () => void): void;
  /** The token a page sends back as X-CSRF-Token on its POSTs. */
  csrfToken(request: IncomingMessage): string;
}

export interface GuardOptions {
  /** ORCHESTRA_CONSOLE_TOKEN: every request then needs it (Bearer, or the session cookie). */
  token?: string | undefined;
  /**
   * Only loopback Host headers are answered (a page on another site that rebinds its DNS name
   * to 127.0.0.1 is refused). True when the console listens on a loopback address.
   */
  loopbackOnly: boolean;
}

type Auth = { ok: true; via: 'bearer' | 'cookie' | 'open'; session: string } | { ok: false };

export function createGuard(options: GuardOptions): Guard {
  const token = options.token ?? '';
  // Signs sessions and CSRF tokens. Derived from the token when there is one, so every replica
  // behind a Service accepts the same cookie; random per process otherwise.
  const secret = token ? createHash('sha256').update(`orchestra-console:${token}`).digest() : randomBytes(32);
  const sign = (text: string) => createHmac('sha256', secret).update(text).digest('base64url');

  const authenticate = (request: IncomingMessage): Auth => {
    if (!token) return { ok: true, via: 'open', session: 'open' };
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7).trim(), token)) {
      return { ok: true, via: 'bearer', session: 'bearer' };
    }
    const cookie = cookies(request)[SESSION_COOKIE];
    if (cookie && validSession(cookie, sign)) return { ok: true, via: 'cookie', session: cookie };
    return { ok: false };
  };

  return {
    csrfToken: (request) => {
      const auth = authenticate(request);
      return sign(`csrf:${auth.ok ? auth.session : 'none'}`);
    },
    handle(request, response, next) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
      if (options.loopbackOnly && !LOOPBACK_NAMES.has(hostName(request.headers.host))) {
        return reply(response, 421, 'this console answers only to localhost addresses');
      }
      const url = new URL(request.url ?? '/', 'http://console.invalid');
      if (OPEN_PATHS.has(url.pathname)) return next();
      const offered = url.searchParams.get('token');
      if (request.method === 'GET' && offered !== null && token && sameSecret(offered, token)) {
        // The token leaves the address bar (and the history) at once: a cookie carries it on.
        const issued = `${Math.floor(Date.now() / 1000)}`;
        url.searchParams.delete('token');
        response.setHeader('Set-Cookie', sessionCookie(`${issued}.${sign(`session:${issued}`)}`, request));
        response.setHeader('Location', `${url.pathname}${url.search}`);
        response.statusCode = 303;
        return void response.end();
      }
      const auth = authenticate(request);
      if (!auth.ok) {
        response.setHeader('WWW-Authenticate', 'Bearer realm="orchestra-console"');
        const message =
          'sign in: open the address that `orchestra console` printed (it ends with ?token=...), ' +
          'or send Authorization: Bearer <ORCHESTRA_CONSOLE_TOKEN>';
        if (url.pathname.startsWith('/api/')) return reply(response, 401, message);
        response.statusCode = 401;
        response.setHeader('Content-Type', 'text/plain; charset=utf-8');
        return void response.end(`Orchestra console: ${message}\n`);
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const refused = refuseForgery(request, auth, sign);
        if (refused) return reply(response, 403, refused);
      }
      next();
    },
  };
}

/**
 * A POST from a page must carry the CSRF token it read from /api/session (another site cannot
 * read it), come from this origin, and be JSON (which a plain cross-site form cannot send).
 * A script with the Bearer token is not a browser riding on a cookie, so it needs none of that.
 */
function refuseForgery(request: IncomingMessage, auth: Auth & { ok: true }, sign: (t: string) => string) {
  if (auth.via === 'bearer') return undefined;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'the Origin header is not a URL';
    }
    if (host !== request.headers.host) return `cross-origin request from ${origin} refused`;
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross-site request refused';
  if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
    return 'actions take a JSON body (Content-Type: application/json)';
  }
  const csrf = request.headers['x-csrf-token'];
  if (typeof csrf !== 'string' || !sameSecret(csrf, sign(`csrf:${auth.session}`))) {
    return 'missing or wrong X-CSRF-Token (reload the page)';
  }
  return undefined;
}

function validSession(cookie: string, sign: (t: string) => string): boolean {
  const [issued, signature] = cookie.split('.');
  if (!issued || !signature || !/^\d{1,12}$/.test(issued)) return false;
  const age = Date.now() / 1000 - Number(issued);
  return age >= 0 && age < SESSION_MAX_AGE_S && sameSecret(signature, sign(`session:${issued}`));
}

function sessionCookie(value: string, request: IncomingMessage): string {
  const secure = request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${SESSION_MAX_AGE_S}${secure}`;
}

/** Compares digests, so neither length nor content leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  if (!expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function cookies(request: IncomingMessage): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) result[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return result;
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

function reply(response: ServerResponse, status: number, message: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.end(JSON.stringify({ error: { code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message } }));
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}
