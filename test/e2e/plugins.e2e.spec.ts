import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionResults } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { orchestra, REPO_ROOT, ServiceProcess } from '../support/cli.js';
import { echoScript, ModelServer, readSeedPrompt } from '../support/model-server.js';

/**
 * Agent plugins end to end: `orchestra up` with examples/plugins.yaml pointed at a local
 * OpenAI-compatible server (test/support/model-server.ts), then the CLI as a user runs it.
 */
const MODEL_KEY = 'sk-e2e-model-key-5f3a9c1e7b';
const marker = (request: { prompt: string }, name: string) => request.prompt.includes(`"scenario":"${name}"`);

describe('plugins that do real work, through the CLI', () => {
  let server: NatsServerHandle;
  let model: ModelServer;
  let services: ServiceProcess;
  let env: Record<string, string>;
  let pluginsFile: string;
  const rateLimited = new Set<string>();

  beforeAll(async () => {
    server = await startNatsServer();
    model = await ModelServer.start('openai', { apiKey: MODEL_KEY });
    model.play((request, i) => {
      if (marker(request, 'rate-limited-once') && !rateLimited.has(request.prompt)) {
        rateLimited.add(request.prompt);
        return { status: 429, retryAfter: '1' };
      }
      if (marker(request, 'echoes-the-key')) return { status: 401, message: `key ${MODEL_KEY} refused` };
      return echoScript(request, i);
    });
    // examples/plugins.yaml as shipped, pointed at the local server, with a key to keep secret.
    const example = readFileSync(join(REPO_ROOT, 'examples/plugins.yaml'), 'utf8');
    pluginsFile = join(tmpdir(), `plugins-${process.pid}.yaml`);
    writeFileSync(
      pluginsFile,
      `${example.replaceAll(
        'base_url: http://127.0.0.1:11434/v1',
        `base_url: ${model.baseUrl}\n    api_key_env: E2E_MODEL_KEY`,
      )}
  - { name: locked@test, kind: agent, provider: openai, base_url: "${model.baseUrl}", model: m, api_key_env: E2E_WRONG_KEY }
`,
    );
    services = await ServiceProcess.start('orchestrator,dispatcher,results', server.url, {
      ORCHESTRA_PLUGINS: pluginsFile,
      E2E_MODEL_KEY: MODEL_KEY,
      E2E_WRONG_KEY: 'sk-wrong-0000000000',
      LOG_LEVEL: 'debug',
    });
    env = { NATS_URL: server.url };
  });
  afterAll(async () => {
    await services?.stop();
    await model?.stop();
    await server?.stop();
  });

  it('runs the due-diligence example on agents: outputs from the model, prompts with resolved input, tokens', async () => {
    const run = await orchestra(
      ['run', 'examples/due-diligence-agents.yaml', '--wait', '--json', '--id', 'dd-agents'],
      env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as ExecutionResults;
    expect(results).toMatchObject({ status: 'completed', summary: { total_tasks: 8, successful: 8 } });
    const tasks = results.phases.flatMap((phase) => phase.tasks);
    const byId = new Map(tasks.map((task) => [task.task_id, task]));
    const prompts = new Map(model.requests.map((r) => [readSeedPrompt(r.prompt).answered, r]));
    for (const task of tasks) {
      // The model answered each task (echoScript reads the prompt back): the output is its reply.
      const request = [...prompts.values()].find((r) =>
        JSON.stringify(task.output).includes(readSeedPrompt(r.prompt).answered),
      );
      expect(request).toBeDefined();
      expect(
        request?.prompt
          .split('\n')
          .slice(0, 4)
          .map((line) => line.split(':')[0]),
      ).toEqual(['Execute', 'Entry Point', 'Input Context', 'Expected Output Key']);
      expect(task.attempts[0]?.usage?.model).toBe('llama3.2');
      expect(task.usage?.input_tokens).toBeGreaterThan(0);
      expect(task.usage?.output_tokens).toBeGreaterThan(0);
    }
    // Phase 2 saw phase 1's output, resolved into its prompt's input context.
    const analysis = model.requests.find((r) => r.prompt.startsWith('Execute: Analyze the financials'));
    expect(readSeedPrompt(analysis?.prompt ?? '').input_context).toEqual({
      company: 'ACME Robotics',
      financials: byId.get('task-1a')?.output,
    });
    // The entry point's schema was asked for and the reply matched it.
    expect(byId.get('task-2a')?.output).toEqual({
      summary: 'answered: Analyze the financials; give the revenue CAGR and the main concerns',
      revenue_cagr: 1,
    });
    const sum = (key: 'input_tokens' | 'output_tokens') =>
      tasks.reduce((n, t) => n + (t.usage?.[key] ?? 0), 0);
    expect(results.summary.usage).toEqual({
      input_tokens: sum('input_tokens'),
      output_tokens: sum('output_tokens'),
    });
  });

  it('waits out a 429 with Retry-After: 1 in one successful attempt', async () => {
    const results = await runPlan('rate-limited-once', 'finance@cowork');
    const task = results.phases[0]?.tasks[0];
    expect(task).toMatchObject({ status: 'success', attempt_number: 1 });
    expect(task?.attempts).toHaveLength(1);
  });

  it('sends a refused key (401) straight to the fallback plugin, without the retries', async () => {
    const results = await runPlan('refused-key', 'locked@test', {
      retries: 3,
      fallback_plugin: 'marketing@cowork',
    });
    const task = results.phases[0]?.tasks[0];
    expect(task).toMatchObject({ status: 'success', plugin_used: 'marketing@cowork', attempt_number: 2 });
    expect(task?.attempts.map((a) => [a.kind, a.plugin, a.status, a.error_code, a.retryable])).toEqual([
      ['first', 'locked@test', 'failed', 'HTTP_401', false],
      ['fallback', 'marketing@cowork', 'success', undefined, undefined],
    ]);
  });

  it('keeps the key out of events, results and logs, even when the server echoes it', async () => {
    const results = await runPlan('echoes-the-key', 'finance@cowork', {}, 'key-echo');
    expect(results.status).toBe('partial');
    const replay = await orchestra(['replay', 'key-echo', '--json'], env);
    expect(replay.stdout).toContain('HTTP 401: key [redacted] refused');
    for (const text of [replay.stdout, JSON.stringify(results), services.logs()])
      expect(text).not.toContain(MODEL_KEY);
  });

  it('lists the live workers, and warns about plugins no worker serves', async () => {
    const listing = await orchestra(['plugins'], env);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/^PLUGIN +KIND +INSTANCE +CONCURRENCY +IN FLIGHT +PROCESSED +FAILED$/m);
    expect(listing.stdout).toMatch(/^finance@cowork +agent +\S+ +2 +0 +\d+ +\d+$/m);
    expect(listing.stdout).toMatch(/^builtin +builtin /m);
    const json = JSON.parse((await orchestra(['plugins', '--json'], env)).stdout) as Array<{
      plugin: string;
    }>;
    expect(json.map((w) => w.plugin)).toContain('writer@cowork');

    const file = planFile('unserved', 'nobody@cowork', { timeout_ms: 500 });
    const run = await orchestra(['run', file, '--id', 'unserved'], env);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'warning: no live worker serves nobody@cowork: their tasks wait for one to start, or time out (see "orchestra plugins")\n',
    );
  });

  it('refuses to start on a bad plugins file, naming each problem', async () => {
    const bad = join(tmpdir(), `bad-plugins-${process.pid}.yaml`);
    writeFileSync(
      bad,
      'plugins:\n  - { name: a@x, kind: lambda }\n  - { name: b@x, kind: agent, provider: anthropic, model: m, api_key_env: NOT_SET_ANYWHERE }\n',
    );
    const up = await orchestra(['up', '--services', 'dispatcher', '--plugins', bad], {
      ...env,
      HEALTH_PORT: '0',
    });
    expect(up.code).toBe(1);
    expect(up.stderr).toBe(
      [
        `✗ plugins file ${bad}: nothing started`,
        '  plugins[0].kind: unknown or missing kind (expected one of builtin, agent, http)',
        '  plugins[1].api_key_env: the environment variable NOT_SET_ANYWHERE is not set (or empty)',
        '',
      ].join('\n'),
    );
  });

  /** A one-task plan on `plugin` whose input carries a scenario marker for the model server. */
  function planFile(scenario: string, plugin: string, extra: Record<string, unknown> = {}): string {
    const task = {
      task_id: 'only',
      description: `Scenario ${scenario}`,
      assigned_plugin: plugin,
      entry_point: { type: 'skill', value: 'scenario' },
      input_context: { scenario },
      timeout_ms: 20_000,
      ...extra,
    };
    const file = join(tmpdir(), `${scenario}-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ plan_id: scenario, phases: [{ phase_id: 'p', tasks: [task] }] }));
    return file;
  }

  async function runPlan(
    scenario: string,
    plugin: string,
    extra: Record<string, unknown> = {},
    id = scenario,
  ): Promise<ExecutionResults> {
    const run = await orchestra(
      ['run', planFile(scenario, plugin, extra), '--wait', '--json', '--id', id],
      env,
    );
    return JSON.parse(run.stdout) as ExecutionResults;
  }
});
