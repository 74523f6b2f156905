// The CLI run in-process for its own tests; the helper lives with the system tests' CLI helpers.
export type { CliRun as Run } from '../../../../test/support/cli.js';
export { orchestraInProcess as run } from '../../../../test/support/cli-in-process.js';
export { REPO_ROOT } from './paths.js';
