import { pluginsFromText } from './load.js';

// The plugins file is checked at start-up: every problem with its path, no secret in any message.

const ENV = { OPENAI_API_KEY: 'sk-live-0123456789', CRM_HMAC_SECRET: 'crm-secret-abcdef' };

function issuesOf(yaml: string, env: Record<string, string> = ENV) {
  const loaded = pluginsFromText(yaml, env);
  if (loaded.ok) throw new Error('expected the file to be refused');
  return loaded.issues;
}

describe('the plugins file', () => {
  it("accepts the issue's example and hosts builtin besides", () => {
    const loaded = pluginsFromText(
      `
plugins:
  - name: finance@cowork          # the plan's assigned_plugin / fallback_plugin
    kind: agent
    provider: openai
    base_url: http://127.0.0.1:11434/v1
    model: gpt-4o-mini
    api_key_env: OPENAI_API_KEY
    concurrency: 4
  - name: crm@acme
    kind: http
    url: https://crm.example/orchestra
    secret_env: CRM_HMAC_SECRET
`,
      ENV,
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    expect(loaded.plugins.map((p) => [p.name, p.kind, p.concurrency])).toEqual([
      ['builtin', 'builtin', undefined],
      ['finance@cowork', 'agent', 4],
      ['crm@acme', 'http', undefined],
    ]);
    expect(loaded.redact(`key ${ENV.OPENAI_API_KEY} and ${ENV.CRM_HMAC_SECRET}`)).toBe(
      'key [redacted] and [redacted]',
    );
  });

  it('lets a builtin plugin take another name, and a file define builtin itself', () => {
    const loaded = pluginsFromText(
      'plugins: [{ name: builtin, kind: builtin, concurrency: 2 }, { name: backup@cowork, kind: builtin }]',
      {},
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    expect(loaded.plugins.map((p) => [p.name, p.kind, p.concurrency])).toEqual([
      ['builtin', 'builtin', 2],
      ['backup@cowork', 'builtin', undefined],
    ]);
  });

  it('reports unknown kinds, missing fields, unknown fields and bad values, each with its path', () => {
    expect(
      issuesOf(`
plugins:
  - { name: a@x, kind: lambda }
  - { name: b@x, kind: agent, model: m }
  - { name: c@x, kind: http }
  - { name: d@x, kind: http, url: "ftp://x", timeout: 5 }
  - { name: "e.x", kind: builtin, concurrency: 0 }
  - { kind: builtin }
`),
    ).toEqual([
      { path: 'plugins[0].kind', message: 'unknown or missing kind (expected one of builtin, agent, http)' },
      { path: 'plugins[1].provider', message: 'missing required field (one of openai, anthropic)' },
      { path: 'plugins[2].url', message: 'missing required field (expected an http(s) URL)' },
      { path: 'plugins[3].url', message: 'must be an http(s) URL' },
      { path: 'plugins[3]', message: 'Unrecognized key: "timeout"' },
      { path: 'plugins[4].name', message: expect.stringContaining('single NATS subject token') },
      { path: 'plugins[4].concurrency', message: expect.any(String) },
      { path: 'plugins[5].name', message: 'missing required field (expected string)' },
    ]);
  });

  it('lists the problems of every entry at once: a bad kind does not hide a missing key', () => {
    expect(
      issuesOf(`
plugins:
  - { name: a@x, kind: lambda }
  - { name: b@x, kind: agent, provider: anthropic, model: m, api_key_env: NOT_SET_ANYWHERE }
  - { name: b@x, kind: builtin }
`),
    ).toEqual([
      { path: 'plugins[0].kind', message: 'unknown or missing kind (expected one of builtin, agent, http)' },
      {
        path: 'plugins[1].api_key_env',
        message: 'the environment variable NOT_SET_ANYWHERE is not set (or empty)',
      },
      { path: 'plugins[2].name', message: 'duplicate plugin name "b@x" (first used at plugins[1])' },
    ]);
  });

  it('reports a missing key variable by name, never by value, and a duplicate name', () => {
    const issues = issuesOf(
      `
plugins:
  - { name: f@x, kind: agent, provider: anthropic, model: claude, api_key_env: ANTHROPIC_API_KEY }
  - { name: g@x, kind: agent, provider: openai, model: gpt }
  - { name: f@x, kind: http, url: "https://x.example", secret_env: CRM_HMAC_SECRET }
  - { name: h@x, kind: http, url: "https://x.example", secret_env: MISSING_SECRET }
`,
      { ...ENV, MISSING_SECRET: '' },
    );
    expect(issues).toEqual([
      {
        path: 'plugins[0].api_key_env',
        message: 'the environment variable ANTHROPIC_API_KEY is not set (or empty)',
      },
      {
        path: 'plugins[1].api_key_env',
        message: 'missing: api.openai.com needs a key (name the variable that holds it)',
      },
      { path: 'plugins[2].name', message: 'duplicate plugin name "f@x" (first used at plugins[0])' },
      {
        path: 'plugins[3].secret_env',
        message: 'the environment variable MISSING_SECRET is not set (or empty)',
      },
    ]);
    expect(JSON.stringify(issues)).not.toContain(ENV.CRM_HMAC_SECRET);
  });

  it('reports an output schema ajv cannot compile, at the plugin or the entry point', () => {
    expect(
      issuesOf(`
plugins:
  - name: s@x
    kind: agent
    provider: openai
    base_url: http://127.0.0.1:1/v1
    model: m
    output_schema: { type: objekt }
    entry_points:
      summarise: { output_schema: { type: object, required: 3 } }
`),
    ).toEqual([
      {
        path: 'plugins[0].entry_points.summarise.output_schema',
        message: expect.stringMatching(/^not a valid JSON Schema: /),
      },
      { path: 'plugins[0].output_schema', message: expect.stringMatching(/^not a valid JSON Schema: /) },
    ]);
  });

  it('refuses a document that is not a plugins file at all', () => {
    expect(issuesOf('')).toEqual([{ path: '(root)', message: 'the document is empty' }]);
    expect(issuesOf('plugins: []')).toEqual([{ path: 'plugins', message: 'name at least one plugin' }]);
    expect(issuesOf('plugin: []')[0]?.path).toBe('plugins');
  });
});
