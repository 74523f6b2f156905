import { LIMITS } from '@orchestra/contracts';
import { useNatsServer } from '@orchestra/testing';
import { DispatchHarness, failed } from '../../../../test/support/dispatch-harness.js';
import { ModelServer, readSeedPrompt } from '../../../../test/support/model-server.js';
import { waitFor } from '../../../../test/support/wait.js';

// Agent plugins in a real dispatcher on a real nats-server, against local model servers that speak
// the OpenAI Chat Completions and Anthropic Messages shapes (test/support/model-server.ts).

const OPENAI_KEY = 'sk-test-openai-0123456789abcdef';
const ANTHROPIC_KEY = 'sk-ant-test-abcdef0123456789';
const server = useNatsServer();
let openai: ModelServer;
let anthropic: ModelServer;
/** An OpenAI-compatible server that wants no key, as a local Ollama or llama.cpp. */
let keyless: ModelServer;
let harness: DispatchHarness;

const SCHEMA = {
  type: 'object',
  required: ['revenue_growth'],
  properties: { revenue_growth: { type: 'number' } },
};

beforeAll(async () => {
  openai = await ModelServer.start('openai', { apiKey: OPENAI_KEY });
  anthropic = await ModelServer.start('anthropic', { apiKey: ANTHROPIC_KEY });
  keyless = await ModelServer.start('openai');
  const yaml = `
plugins:
  - { name: finance@test, kind: agent, provider: openai, base_url: "${openai.baseUrl}", model: gpt-test, api_key_env: OPENAI_TEST_KEY }
  - name: schema@test
    kind: agent
    provider: openai
    base_url: "${openai.baseUrl}"
    model: gpt-test
    api_key_env: OPENAI_TEST_KEY
    output_schema: ${JSON.stringify(SCHEMA)}
  - name: prompted@test
    kind: agent
    provider: openai
    base_url: "${keyless.baseUrl}"
    model: gpt-test
    json_request: prompt
    system: "You analyse {entry_point.value} for plan {plan_id}."
    output_schema: ${JSON.stringify(SCHEMA)}
  - { name: slow@test, kind: agent, provider: openai, base_url: "${openai.baseUrl}", model: gpt-test, api_key_env: OPENAI_TEST_KEY, timeout_ms: 300 }
  - { name: wrongkey@test, kind: agent, provider: openai, base_url: "${openai.baseUrl}", model: gpt-test, api_key_env: WRONG_KEY }
  - name: legal@test
    kind: agent
    provider: anthropic
    base_url: "${anthropic.baseUrl}"
    model: claude-test
    api_key_env: ANTHROPIC_TEST_KEY
    system: You are a careful lawyer.
    entry_points:
      assess-risk: { output_schema: ${JSON.stringify(SCHEMA)} }
`;
  harness = await DispatchHarness.start(server(), yaml, {
    OPENAI_TEST_KEY: OPENAI_KEY,
    ANTHROPIC_TEST_KEY: ANTHROPIC_KEY,
    WRONG_KEY: 'sk-wrong-key-that-the-server-refuses',
  });
});
afterAll(async () => {
  await harness?.stop();
  await openai?.stop();
  await anthropic?.stop();
  await keyless?.stop();
});
beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
});

/** The model server saw the client give up the request whose input carried this marker. */
function abandoned(marker: string): boolean {
  return openai.abandoned.some((request) => request.prompt.includes(marker));
}

describe('agent plugins (OpenAI-compatible)', () => {
  it("sends the seed's Step 3 prompt with the resolved input and returns the model's JSON with its usage", async () => {
    openai.play((request) => ({ reply: JSON.stringify({ seen: readSeedPrompt(request.prompt) }) }));
    const task = harness.command('finance@test');
    const outcome = await harness.run(task);
    const request = openai.requests[0];
    expect(request?.prompt).toBe(
      [
        'Execute: Analyze the financials',
        'Entry Point: skill - analyze',
        'Input Context: {"company":"ACME Robotics","revenue":{"2024":48.9}}',
        'Expected Output Key: financial_analysis',
      ].join('\n'),
    );
    expect(request?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(request?.body).toMatchObject({ model: 'gpt-test', stream: false });
    expect(request?.body.response_format).toBeUndefined();
    expect(outcome).toMatchObject({
      status: 'succeeded',
      output: { seen: { input_context: task.input_context, output_key: 'financial_analysis' } },
      usage: { model: 'gpt-test', finish_reason: 'stop' },
    });
    expect(outcome.usage?.input_tokens).toBeGreaterThan(10);
    expect(outcome.usage?.output_tokens).toBeGreaterThan(5);
  });

  it('returns { text } when the model does not answer JSON, and accepts JSON in one ```json fence', async () => {
    openai.play(() => ({ reply: 'Revenue grew 17 % a year.' }));
    expect(await harness.run(harness.command('finance@test'))).toMatchObject({
      status: 'succeeded',
      output: { text: 'Revenue grew 17 % a year.' },
    });
    openai.play(() => ({ reply: '```json\n{"revenue_growth": 0.17}\n```' }));
    expect(await harness.run(harness.command('finance@test'))).toMatchObject({
      output: { revenue_growth: 0.17 },
    });
  });

  it('asks for JSON with the schema (response_format) and validates the reply; a mismatch fails the attempt', async () => {
    openai.play(() => ({ reply: '{"revenue_growth": 0.17}' }));
    const ok = await harness.run(harness.command('schema@test'));
    expect(ok).toMatchObject({ status: 'succeeded', output: { revenue_growth: 0.17 } });
    expect(openai.requests[0]?.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema: SCHEMA, strict: false },
    });

    openai.play(() => ({ reply: '{"revenue_growth": "fast"}' }));
    const mismatch = await harness.run(harness.command('schema@test'));
    expect(failed(mismatch)).toEqual({
      code: 'REPLY_SCHEMA_MISMATCH',
      message: 'the reply does not match the output schema: /revenue_growth must be number',
    });
    expect(mismatch.usage).toMatchObject({ model: 'gpt-test' });
    expect(mismatch.usage?.output_tokens).toBeGreaterThan(0);

    openai.play(() => ({ reply: 'It grew fast.' }));
    expect(failed(await harness.run(harness.command('schema@test')))).toMatchObject({
      code: 'REPLY_NOT_JSON',
      message: expect.stringContaining('the reply is not JSON, and the plugin requires JSON: It grew fast.'),
    });
  });

  it('with json_request: prompt, states the schema in the system prompt instead of response_format', async () => {
    keyless.play(() => ({ reply: '{"revenue_growth": 0.2}' }));
    const outcome = await harness.run(harness.command('prompted@test'));
    expect(outcome.status).toBe('succeeded');
    const request = keyless.requests[0];
    expect(request?.body.response_format).toBeUndefined();
    expect(request?.system).toBe(
      `You analyse analyze for plan harness.\n\nReply with a single JSON value and nothing else. It must match this JSON Schema:\n${JSON.stringify(SCHEMA)}`,
    );
    // No key configured: the local server is reached without one of ours.
    expect(request?.headers.authorization).toBe('Bearer not-needed');
  });
});

describe('agent plugins (Anthropic Messages)', () => {
  it('sends the prompt and system prompt, asks for the schema of the entry point, and records usage', async () => {
    anthropic.play(() => ({ reply: '{"revenue_growth": 0.3}', usage: { input: 321, output: 12 } }));
    const outcome = await harness.run(
      harness.command('legal@test', { entry_point: { type: 'skill', value: 'assess-risk' } }),
    );
    expect(outcome).toMatchObject({
      status: 'succeeded',
      output: { revenue_growth: 0.3 },
      usage: { model: 'claude-test', input_tokens: 321, output_tokens: 12, finish_reason: 'end_turn' },
    });
    const request = anthropic.requests[0];
    expect(request?.path).toBe('/v1/messages');
    expect(request?.system).toBe('You are a careful lawyer.');
    expect(request?.prompt).toMatch(/^Execute: Analyze the financials\nEntry Point: skill - assess-risk\n/);
    expect(request?.body).toMatchObject({
      model: 'claude-test',
      max_tokens: 4096,
      output_config: { format: { type: 'json_schema', schema: SCHEMA } },
    });
    expect(request?.headers['anthropic-version']).toBeDefined();
  });

  it('other entry points of the plugin have no schema: text stays text', async () => {
    anthropic.play(() => ({ reply: 'Moderate risk.' }));
    const outcome = await harness.run(harness.command('legal@test'));
    expect(outcome).toMatchObject({ status: 'succeeded', output: { text: 'Moderate risk.' } });
    expect(anthropic.requests[0]?.body.output_config).toBeUndefined();
  });

  it('fails with HTTP_529 (retryable) when the API is overloaded', async () => {
    anthropic.play(() => ({ status: 529, message: 'Overloaded' }));
    expect(failed(await harness.run(harness.command('legal@test')))).toEqual({
      code: 'HTTP_529',
      message: 'HTTP 529: Overloaded',
    });
  });
});

describe('agent plugins: rate limits and refusals', () => {
  it('waits out a 429 with Retry-After: 1 inside the attempt, then succeeds in one attempt', async () => {
    openai.play((_request, i) => (i === 0 ? { status: 429, retryAfter: '1' } : { reply: '{"ok": true}' }));
    const outcome = await harness.run(harness.command('finance@test'));
    expect(outcome).toMatchObject({ status: 'succeeded', output: { ok: true }, attempt_number: 1 });
    expect(openai.requests).toHaveLength(2);
    const [first, second] = openai.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('fails a 429 without Retry-After (or one past the deadline) at once as retryable: no SDK retry', async () => {
    openai.play(() => ({ status: 429 }));
    expect(failed(await harness.run(harness.command('finance@test')))).toEqual({
      code: 'HTTP_429',
      message: 'HTTP 429: Rate limit reached, retry later',
    });
    expect(openai.requests).toHaveLength(1);

    openai.play(() => ({ status: 429, retryAfter: '30' }));
    const started = Date.now();
    const outcome = await harness.run(harness.command('finance@test', {}, 5_000));
    expect(failed(outcome).code).toBe('HTTP_429');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(openai.requests).toHaveLength(2);
  });

  it('fails a 500 as retryable after one request (the SDK retries nothing)', async () => {
    openai.play(() => ({ status: 500, message: 'The server had an error while processing your request.' }));
    const outcome = await harness.run(harness.command('finance@test'));
    expect(failed(outcome)).toEqual({
      code: 'HTTP_500',
      message: 'HTTP 500: The server had an error while processing your request.',
    });
    expect(outcome.usage).toEqual({ model: 'gpt-test', input_tokens: 0, output_tokens: 0 });
    expect(openai.requests).toHaveLength(1);
  });

  it.each([400, 403, 404])('fails a %i as non-retryable', async (status) => {
    openai.play(() => ({ status }));
    expect(failed(await harness.run(harness.command('finance@test')))).toMatchObject({
      code: `HTTP_${status}`,
      retryable: false,
    });
  });

  it('fails a refused key (401) as non-retryable', async () => {
    expect(failed(await harness.run(harness.command('wrongkey@test')))).toEqual({
      code: 'HTTP_401',
      message: 'HTTP 401: invalid x-api-key',
      retryable: false,
    });
  });

  it('keeps the key out of errors and logs even when the server echoes it back', async () => {
    openai.play(() => ({ status: 401, message: `Incorrect API key provided: ${OPENAI_KEY}` }));
    const outcome = await harness.run(harness.command('finance@test'));
    expect(failed(outcome).message).toBe('HTTP 401: Incorrect API key provided: [redacted]');
    const everything = JSON.stringify(outcome) + harness.logger.lines.join('\n');
    for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, 'sk-wrong-key-that-the-server-refuses']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('agent plugins: bad answers and faults', () => {
  it.each([
    [
      'malformed JSON',
      { raw: { status: 200, contentType: 'application/json', body: '{"choices": [' } },
      'BAD_RESPONSE',
    ],
    [
      'an HTML page',
      { raw: { status: 200, contentType: 'text/html', body: '<html><body>Gateway</body></html>' } },
      'BAD_RESPONSE',
    ],
    ['an empty reply', { reply: '' }, 'EMPTY_REPLY'],
    ['a reply over the output limit', { reply: 'x'.repeat(LIMITS.outputBytes + 1) }, 'OUTPUT_TOO_LARGE'],
    ['a closed connection', { destroy: true }, 'CONNECTION_FAILED'],
    ['a reply slower than timeout_ms', { reply: '{}', delayMs: 2_000 }, 'UPSTREAM_TIMEOUT'],
  ] as const)('fails the attempt on %s with a clear code, once', async (_what, scene, code) => {
    openai.play(() => scene);
    const plugin = code === 'UPSTREAM_TIMEOUT' ? 'slow@test' : 'finance@test';
    const task = harness.command(plugin);
    const outcome = await harness.run(task);
    expect(failed(outcome)).toMatchObject({ code });
    expect(failed(outcome).retryable).toBeUndefined();
    expect(await harness.outcomes(task.execution_id)).toHaveLength(1);
  });

  it('aborts the request in flight on cancel: no outcome, and the server sees the connection go', async () => {
    openai.play(() => ({ hang: true }));
    const task = harness.command('finance@test', { input_context: { marker: 'held-for-cancel' } });
    await harness.publish(task);
    await waitFor(() => openai.requests.length === 1, { what: 'the request' });
    harness.cancel(task.execution_id);
    await waitFor(() => abandoned('held-for-cancel'), { what: 'the aborted request', timeoutMs: 3_000 });
    expect(await harness.outcomes(task.execution_id)).toEqual([]);
  });

  it('aborts the request in flight at the deadline: no outcome (the orchestrator times it out)', async () => {
    openai.play(() => ({ hang: true }));
    const task = harness.command('finance@test', { input_context: { marker: 'held-to-deadline' } }, 800);
    await harness.publish(task);
    await waitFor(() => openai.requests.length === 1, { what: 'the request' });
    expect(abandoned('held-to-deadline')).toBe(false);
    await waitFor(() => abandoned('held-to-deadline'), { what: 'the aborted request', timeoutMs: 5_000 });
    expect(await harness.outcomes(task.execution_id)).toEqual([]);
  });

  it('still answers after every fault above', async () => {
    openai.play(() => ({ reply: '{"alive": true}' }));
    expect(await harness.run(harness.command('finance@test'))).toMatchObject({ output: { alive: true } });
  });
});
