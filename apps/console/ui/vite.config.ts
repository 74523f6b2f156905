import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The console's page, built into apps/console/dist/ui by `npm run build` and served by the
 * console itself: every script and style is a file of the build (no CDN, nothing inline, so the
 * server's Content-Security-Policy can allow only 'self').
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('public'),
  logLevel: 'warn',
  resolve: {
    alias: [
      // The fold runs in the page from the sources of libs/execution, with the browser-safe part
      // of the contracts (libs/contracts/src/browser.ts, the package's `./browser` entry).
      { find: /^@orchestra\/execution$/, replacement: here('../../../libs/execution/src/index.ts') },
      { find: /^@orchestra\/contracts$/, replacement: here('../../../libs/contracts/src/browser.ts') },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  worker: { format: 'es' },
  build: {
    outDir: here('../dist/ui'),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
    target: 'es2022',
  },
});
