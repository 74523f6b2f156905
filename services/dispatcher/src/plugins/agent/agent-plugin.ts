import type { DispatchTask, JsonValue } from '@orchestra/contracts';
import type { ValidateFunction } from 'ajv';
import type { Plugin, PluginContext } from '../../plugin.js';
import type { AgentPluginConfig } from '../config.js';
import { honouringRetryAfter, UpstreamCodes, UpstreamError } from '../upstream.js';
import { anthropicClient } from './anthropic.js';
import type { ModelClient, ModelReply, ModelRequest } from './model.js';
import { openAiClient } from './openai.js';
import { renderPrompt, SEED_PROMPT, schemaInstruction } from './prompt.js';
import { outputOfReply } from './reply.js';

/** The output schemas of one agent plugin, compiled: the plugin's, and per entry point value. */
export interface AgentSchemas {
  plugin: ValidateFunction | undefined;
  entryPoints: ReadonlyMap<string, ValidateFunction>;
}

/**
 * An `agent` plugin: each attempt sends the task as the seed's Step 3 prompt (or the plugin's
 * own template) to the model and turns the reply into the output (reply.ts). Every attempt that
 * sent a request reports its model and tokens, whether it succeeds or fails.
 */
export function agentPlugin(
  config: AgentPluginConfig,
  apiKey: string | undefined,
  schemas: AgentSchemas,
  client: ModelClient = modelClient(config, apiKey),
): Plugin {
  return {
    name: config.name,
    kind: 'agent',
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    async run(task, ctx) {
      const entryPoint = entryPointOf(config, task);
      const schema = entryPoint?.output_schema ?? config.output_schema;
      const validate = entryPoint?.output_schema
        ? schemas.entryPoints.get(task.entry_point.value)
        : schemas.plugin;
      const viaApi = schema !== undefined && config.json_request !== 'prompt';
      const template = entryPoint?.system ?? config.system;
      const systemParts = [
        template === undefined ? undefined : renderPrompt(template, task),
        schema !== undefined && !viaApi ? schemaInstruction(schema) : undefined,
      ].filter((part): part is string => part !== undefined);
      const reply = await callModel(client, ctx, task, config.timeout_ms, {
        system: systemParts.length > 0 ? systemParts.join('\n\n') : undefined,
        prompt: renderPrompt(entryPoint?.prompt ?? config.prompt ?? SEED_PROMPT, task),
        schema: viaApi ? schema : undefined,
        signal: ctx.signal,
      });
      return outputOfReply(reply.text, validate) satisfies JsonValue;
    },
  };
}

/**
 * One model call per request, each bounded by the plugin's timeout_ms (ours, not the SDK's: the
 * SDKs' timers stop at the response headers, ours covers the body too) and by the attempt's
 * signal (cancel, deadline).
 */
async function callModel(
  client: ModelClient,
  ctx: PluginContext,
  task: DispatchTask,
  timeoutMs: number | undefined,
  request: ModelRequest,
): Promise<ModelReply> {
  const reply = await honouringRetryAfter(
    async () => {
      const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
      try {
        return await client.complete({
          ...request,
          signal: timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal,
        });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        // The request went out and was refused or lost: no tokens, but the attempt used this model.
        ctx.reportUsage({ model: client.model, input_tokens: 0, output_tokens: 0 });
        if (timeout?.aborted) {
          throw new UpstreamError(
            `no answer from the model within ${timeoutMs} ms (timeout_ms)`,
            UpstreamCodes.timeout,
          );
        }
        throw error;
      }
    },
    { signal: ctx.signal, deadlineAt: task.deadline_at },
  );
  ctx.reportUsage(reply.usage);
  return reply;
}

function entryPointOf(config: AgentPluginConfig, task: DispatchTask) {
  const value = task.entry_point.value;
  return config.entry_points && Object.hasOwn(config.entry_points, value)
    ? config.entry_points[value]
    : undefined;
}

function modelClient(config: AgentPluginConfig, apiKey: string | undefined): ModelClient {
  return config.provider === 'anthropic' ? anthropicClient(config, apiKey) : openAiClient(config, apiKey);
}
