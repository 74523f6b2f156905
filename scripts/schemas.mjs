// Writes the JSON Schemas of the bus contract to schemas/ (see schemas/README.md), generated
// from the zod contracts of libs/contracts (built first by `npm run schemas`). Files that no
// contract produces any more are removed.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { jsonSchemaFiles, jsonSchemaIndex } from '../libs/contracts/dist/index.js';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'schemas');
const files = jsonSchemaFiles();
const wanted = new Set(files.map(({ file }) => join(dir, file)));

for (const path of listSchemaFiles(dir)) if (!wanted.has(path)) rmSync(path);
for (const { file, schema } of files) {
  const path = join(dir, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
}
writeFileSync(join(dir, 'README.md'), jsonSchemaIndex(files));
console.log(`wrote ${files.length} schemas and the index to ${relative(root, dir)}/`);

function listSchemaFiles(from) {
  let found = [];
  try {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const path = join(from, entry.name);
      if (entry.isDirectory()) found = found.concat(listSchemaFiles(path));
      else if (entry.name.endsWith('.schema.json')) found.push(path);
    }
  } catch {
    // No schemas/ yet.
  }
  return found;
}
