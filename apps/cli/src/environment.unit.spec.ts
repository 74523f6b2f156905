import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidationError } from '@orchestra/contracts';
import { environmentTable, serviceEnvironmentProblems, withEnvironmentTable } from './environment.js';
import { main } from './index.js';
import { startStack } from './stack.js';
import { REPO_ROOT } from './testing/paths.js';

const bad = {
  HEALTH_PORT: 'http',
  ORCHESTRATOR_ACK_WAIT_MS: '10',
  ORCHESTRA_STREAM_REPLICAS: '9',
  LOG_FORMAT: 'xml',
  NATS_RECONNECT_WAIT_MS: 'soon',
};
const problems = [
  { path: 'NATS_RECONNECT_WAIT_MS', message: 'must be an integer from 0 to 3600000 (ms), got "soon"' },
  { path: 'HEALTH_PORT', message: 'must be an integer from 0 to 65535, got "http"' },
  { path: 'LOG_FORMAT', message: 'must be one of json, pretty, got "xml"' },
  { path: 'ORCHESTRA_STREAM_REPLICAS', message: 'must be an integer from 1 to 5, got "9"' },
  { path: 'ORCHESTRATOR_ACK_WAIT_MS', message: 'must be an integer from 1000 to 300000 (ms), got "10"' },
];

describe("the services' environment", () => {
  it('is checked whole: every problem of every variable the chosen services read', () => {
    expect(serviceEnvironmentProblems(['orchestrator', 'dispatcher', 'results'], bad)).toEqual(problems);
    // The results service does not read the orchestrator's variable.
    expect(serviceEnvironmentProblems(['results'], bad)).toEqual(problems.slice(0, 4));
    expect(serviceEnvironmentProblems(['orchestrator', 'dispatcher', 'results'], {})).toEqual([]);
  });

  it('stops startStack before anything starts, naming every problem', async () => {
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const started = startStack({
      services: ['orchestrator'],
      natsUrl: 'nats://127.0.0.1:1',
      logger,
      env: bad,
    });
    await expect(started).rejects.toMatchObject({ name: 'ValidationError', issues: problems });
    await started.catch((error: ValidationError) => {
      expect(error.message.split('\n')).toEqual([
        'invalid environment, 5 problem(s):',
        ...problems.map(({ path, message }) => `  ${path}: ${message}`),
      ]);
    });
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('makes orchestra up print every problem and start nothing (exit code 1)', async () => {
    let stderr = '';
    const code = await main(['up'], {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      cwd: REPO_ROOT,
      env: bad,
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      '✗ invalid environment: nothing started',
      ...problems.map(({ path, message }) => `  ${path}: ${message}`),
    ]);
  });
});

describe("the README's table of environment variables", () => {
  it('is the one generated from the declarations (npm run env-table writes it)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(withEnvironmentTable(readme, environmentTable())).toBe(readme);
  });

  it('names each variable once, with its default and who reads it', () => {
    const rows = environmentTable().split('\n').slice(2);
    const names = rows.map((row) => row.split('|')[1]?.trim());
    expect(new Set(names).size).toBe(names.length);
    expect(rows.find((row) => row.includes('`ORCHESTRATOR_ACK_WAIT_MS`'))).toMatch(
      /\| `3000` +\| orchestrator +\|/,
    );
    expect(rows.find((row) => row.includes('`NATS_URL`'))).toMatch(/\| every process +\|/);
  });
});
