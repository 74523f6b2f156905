// Writes the README's table of environment variables (section "Configuration") from the
// packages' declarations, put together in apps/cli/src/environment.ts. Run after a build
// (`npm run env-table` builds first); apps/cli/src/environment.unit.spec.ts fails when it drifts.
import { readFileSync, writeFileSync } from 'node:fs';
import { environmentTable, withEnvironmentTable } from '@orchestra/cli';

const readme = new URL('../README.md', import.meta.url);
const before = readFileSync(readme, 'utf8');
const after = withEnvironmentTable(before, environmentTable());
if (after !== before) writeFileSync(readme, after);
console.log(after === before ? 'README.md: the table is up to date' : 'README.md: table written');
