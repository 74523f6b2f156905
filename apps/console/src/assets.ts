import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the page (vite, see apps/console/ui/vite.config.ts). */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../dist/ui', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Files under assets/ have a content hash in their name: cached for good. */
  immutable: boolean;
}

export interface Assets {
  handle(request: IncomingMessage, response: ServerResponse, next: () => void): void;
}

/**
 * The built page, read into memory once: only files that the build produced are ever served
 * (no path from a request reaches the file system), and nothing is fetched from elsewhere.
 * Any other GET (but /api/, /health/ and /metrics) gets index.html, so the page's own addresses
 * (/executions/<id>) survive a reload.
 */
export function loadAssets(dir: string = DEFAULT_ASSETS_DIR): Assets {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the console's page is not built (${dir}/index.html is missing): run \`npm run build\``);
  }
  const files = new Map<string, Asset>();
  for (const path of walk(dir)) {
    const body = readFileSync(path);
    const name = `/${relative(dir, path).split(sep).join('/')}`;
    files.set(name, {
      body,
      type: TYPES[extname(path)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: name.startsWith('/assets/'),
    });
  }
  const index = files.get('/index.html') as Asset;
  return {
    handle(request, response, next) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return next();
      const path = new URL(request.url ?? '/', 'http://console.invalid').pathname;
      if (path.startsWith('/api/') || path.startsWith('/health/') || path === '/metrics') return next();
      const asset = files.get(path) ?? (path.startsWith('/assets/') ? undefined : index);
      if (!asset) return next();
      response.setHeader('Content-Type', asset.type);
      response.setHeader('ETag', asset.etag);
      response.setHeader(
        'Cache-Control',
        asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      if (request.headers['if-none-match'] === asset.etag) {
        response.statusCode = 304;
        return void response.end();
      }
      response.setHeader('Content-Length', asset.body.length);
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    },
  };
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
