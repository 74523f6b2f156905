import { type Issue, LIMITS, PluginName } from '@orchestra/contracts';
import { z } from 'zod';

/**
 * The plugins file (`orchestra up --plugins FILE`, `ORCHESTRA_PLUGINS`): which plugins a
 * dispatcher hosts and how each reaches its model or service. Keys and secrets are never in the
 * file: it names the environment variables that hold them (README, Plugins).
 */

const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, "_")');

const Concurrency = z.number().int().min(1).max(1024);
/** Per request to the model or service; the attempt's deadline bounds it in any case. */
const RequestTimeout = z.number().int().min(1).max(LIMITS.timeoutMs);
/** A JSON Schema, checked by ajv when the plugins are built. */
const JsonSchemaObject = z.record(z.string(), z.unknown());

const Template = z.string().min(1).max(16_384);

const HttpUrl = z.url({
  protocol: /^https?$/,
  error: (issue) =>
    issue.input === undefined ? 'missing required field (expected an http(s) URL)' : 'must be an http(s) URL',
});

/** What may differ per entry point value of an agent plugin. */
const AgentEntryPoint = z.strictObject({
  prompt: Template.optional(),
  system: Template.optional(),
  output_schema: JsonSchemaObject.optional(),
});

const common = {
  name: PluginName,
  concurrency: Concurrency.optional(),
  description: z.string().max(1024).optional(),
};

export const AgentPluginConfig = z.strictObject({
  ...common,
  kind: z.literal('agent'),
  /** `openai`: any server speaking Chat Completions; `anthropic`: the Messages API. */
  provider: z.enum(['openai', 'anthropic']),
  base_url: HttpUrl.optional(),
  model: z.string().min(1).max(256),
  api_key_env: EnvName.optional(),
  /** Replaces the seed's Step 3 prompt: {description}, {entry_point.type}, ... (README, Plugins). */
  prompt: Template.optional(),
  system: Template.optional(),
  /** The reply must be JSON matching it (for every task of this plugin, unless the entry point has its own). */
  output_schema: JsonSchemaObject.optional(),
  entry_points: z.record(z.string().min(1), AgentEntryPoint).optional(),
  /**
   * `api` (default): ask the provider for output matching the schema (response_format /
   * output_config); `prompt`: state the schema in the system prompt only, for servers that do not
   * support the former. The reply is validated either way.
   */
  json_request: z.enum(['api', 'prompt']).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  timeout_ms: RequestTimeout.optional(),
});
export type AgentPluginConfig = z.infer<typeof AgentPluginConfig>;

export const HttpPluginConfig = z.strictObject({
  ...common,
  kind: z.literal('http'),
  url: HttpUrl,
  /** HMAC-SHA256 key for the Orchestra-Signature header; without it, requests are not signed. */
  secret_env: EnvName.optional(),
  timeout_ms: RequestTimeout.optional(),
});
export type HttpPluginConfig = z.infer<typeof HttpPluginConfig>;

export const BuiltinPluginConfig = z.strictObject({
  ...common,
  kind: z.literal('builtin'),
});
export type BuiltinPluginConfig = z.infer<typeof BuiltinPluginConfig>;

const KINDS = ['builtin', 'agent', 'http'] as const;

export const PluginConfig = z.discriminatedUnion(
  'kind',
  [BuiltinPluginConfig, AgentPluginConfig, HttpPluginConfig],
  {
    error: (issue) =>
      issue.code === 'invalid_union' && issue.note === 'No matching discriminator'
        ? `unknown or missing kind (expected one of ${KINDS.join(', ')})`
        : undefined,
  },
);
export type PluginConfig = z.infer<typeof PluginConfig>;

/** The file's outer shape; each entry is checked on its own (PluginConfig) so every problem is listed. */
export const PluginsFile = z.strictObject({
  plugins: z.array(z.unknown()).min(1, 'name at least one plugin').max(1000),
});

/** An entry of the file that passed PluginConfig, with its place in the file. */
export interface PluginEntry {
  path: string;
  config: PluginConfig;
}

/** zod says "expected string, received undefined" for an absent field; say what it means. */
export const missingField: z.core.$ZodErrorMap = (issue) => {
  if (issue.input !== undefined) return undefined;
  if (issue.code === 'invalid_type') return `missing required field (expected ${issue.expected})`;
  if (issue.code === 'invalid_value') return `missing required field (one of ${issue.values.join(', ')})`;
  return undefined;
};

export type Env = Readonly<Record<string, string | undefined>>;

/** Problems zod cannot see: duplicate names, and variables the file names but the process lacks. */
export function semanticIssues(entries: readonly PluginEntry[], env: Env): Issue[] {
  const issues: Issue[] = [];
  const first = new Map<string, string>();
  for (const { path, config: plugin } of entries) {
    const seen = first.get(plugin.name);
    if (seen !== undefined) {
      issues.push({
        path: `${path}.name`,
        message: `duplicate plugin name "${plugin.name}" (first used at ${seen})`,
      });
    } else first.set(plugin.name, path);
    for (const field of ['api_key_env', 'secret_env'] as const) {
      const variable = (plugin as Partial<Record<typeof field, string>>)[field];
      if (variable !== undefined && !env[variable]) {
        issues.push({
          path: `${path}.${field}`,
          message: `the environment variable ${variable} is not set (or empty)`,
        });
      }
    }
    if (plugin.kind === 'agent' && plugin.api_key_env === undefined && needsKey(plugin)) {
      issues.push({
        path: `${path}.api_key_env`,
        message: `missing: ${plugin.provider === 'anthropic' ? 'the Anthropic API' : 'api.openai.com'} needs a key (name the variable that holds it)`,
      });
    }
  }
  return issues;
}

/** The providers' own endpoints want a key; a local OpenAI-compatible server usually does not. */
function needsKey(plugin: AgentPluginConfig): boolean {
  return plugin.provider === 'anthropic' || plugin.base_url === undefined;
}
