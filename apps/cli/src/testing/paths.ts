import { resolve } from 'node:path';

/** The repository root: `examples/...` arguments are relative to it. */
export const REPO_ROOT = resolve(__dirname, '../../../..');
