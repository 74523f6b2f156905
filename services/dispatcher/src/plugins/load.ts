import { readFileSync } from 'node:fs';
import { formatPath, type Issue, parseDocumentText, ValidationError, zodIssues } from '@orchestra/contracts';
import type { ValidateFunction } from 'ajv';
import { builtinPlugin } from '../builtin.js';
import type { Plugin } from '../plugin.js';
import { agentPlugin } from './agent/agent-plugin.js';
import {
  type AgentPluginConfig,
  type Env,
  missingField,
  PluginConfig,
  type PluginEntry,
  PluginsFile,
  semanticIssues,
} from './config.js';
import { httpPlugin } from './http-plugin.js';
import { compileSchema } from './json-schema.js';
import { redactor } from './upstream.js';

/** The plugins a dispatcher hosts, and how to keep their secrets out of error messages. */
export interface LoadedPlugins {
  plugins: Plugin[];
  /** Replaces every key and HMAC secret the plugins read with `[redacted]`. */
  redact: (text: string) => string;
}

export type PluginsLoad = ({ ok: true } & LoadedPlugins) | { ok: false; issues: Issue[] };

/** The variable that names the plugins file in containers (`orchestra up --plugins` wins over it). */
export const PLUGINS_FILE_VARIABLE = 'ORCHESTRA_PLUGINS';

/**
 * Reads, validates and builds a plugins file. Never throws: every problem comes back with its
 * path (`plugins[1].api_key_env`); none of them quotes a secret. `builtin` is always hosted
 * unless the file defines a plugin of that name.
 */
export function loadPluginsFile(path: string, env: Env): PluginsLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: '(file)', message: `cannot read ${path}: ${(error as Error).message}` }],
    };
  }
  return pluginsFromText(text, env);
}

export function pluginsFromText(text: string, env: Env): PluginsLoad {
  const document = parseDocumentText(text);
  if (!document.ok) return document;
  const shape = PluginsFile.safeParse(document.value, { error: missingField });
  if (!shape.success) return { ok: false, issues: zodIssues(shape.error) };
  const issues: Issue[] = [];
  const entries: PluginEntry[] = [];
  shape.data.plugins.forEach((entry, i) => {
    const parsed = PluginConfig.safeParse(entry, { error: missingField });
    if (parsed.success) entries.push({ path: `plugins[${i}]`, config: parsed.data });
    else {
      for (const issue of parsed.error.issues) {
        issues.push({ path: formatPath(['plugins', i, ...issue.path]), message: issue.message });
      }
    }
  });
  issues.push(...semanticIssues(entries, env));
  const secrets: string[] = [];
  const built = entries.flatMap(({ path, config }) => buildPlugin(config, path, env, secrets, issues) ?? []);
  if (issues.length > 0) return { ok: false, issues };
  const plugins = built.some((plugin) => plugin.name === builtinPlugin.name)
    ? built
    : [builtinPlugin, ...built];
  return { ok: true, plugins, redact: redactor(secrets) };
}

/** Like loadPluginsFile, for start-up: throws a ValidationError listing every issue. */
export function loadPluginsOrThrow(path: string, env: Env): LoadedPlugins {
  const loaded = loadPluginsFile(path, env);
  if (!loaded.ok) {
    throw new ValidationError(
      `invalid plugins file ${path}: ${loaded.issues.length} problem(s)`,
      loaded.issues,
    );
  }
  return { plugins: loaded.plugins, redact: loaded.redact };
}

function buildPlugin(
  config: PluginConfig,
  path: string,
  env: Env,
  secrets: string[],
  issues: Issue[],
): Plugin | undefined {
  switch (config.kind) {
    case 'builtin':
      return {
        ...builtinPlugin,
        name: config.name,
        ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      };
    case 'http': {
      const secret = config.secret_env ? env[config.secret_env] : undefined;
      if (secret) secrets.push(secret);
      return httpPlugin(config, secret);
    }
    case 'agent': {
      const key = config.api_key_env ? env[config.api_key_env] : undefined;
      if (key) secrets.push(key);
      const schemas = compileSchemas(config, path, issues);
      return schemas ? agentPlugin(config, key, schemas) : undefined;
    }
    default: {
      const _exhaustive: never = config;
      return _exhaustive;
    }
  }
}

function compileSchemas(config: AgentPluginConfig, path: string, issues: Issue[]) {
  const compile = (schema: Record<string, unknown> | undefined, at: string): ValidateFunction | undefined => {
    if (!schema) return undefined;
    const check = compileSchema(schema);
    if (check.ok) return check.validate;
    issues.push({ path: at, message: check.message });
    return undefined;
  };
  const entryPoints = new Map<string, ValidateFunction>();
  for (const [value, entryPoint] of Object.entries(config.entry_points ?? {})) {
    const validate = compile(entryPoint.output_schema, `${path}.entry_points.${value}.output_schema`);
    if (validate) entryPoints.set(value, validate);
  }
  return { plugin: compile(config.output_schema, `${path}.output_schema`), entryPoints };
}
