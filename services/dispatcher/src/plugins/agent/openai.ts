import OpenAI from 'openai';
import { z } from 'zod';
import type { AgentPluginConfig } from '../config.js';
import {
  type ModelClient,
  type ModelReply,
  type ModelRequest,
  parseReply,
  sdkFailure,
  sdkOptions,
  TokenCount,
} from './model.js';

/** The fields of a Chat Completions response this plugin reads (non-streaming). */
const ChatCompletion = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullable().optional(),
          refusal: z.string().nullable().optional(),
        }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: TokenCount, completion_tokens: TokenCount }).nullable().optional(),
});

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Chat Completions through the official `openai` SDK: OpenAI, Azure's OpenAI-compatible
 * endpoint, vLLM, Ollama, llama.cpp's server, LiteLLM (SDK settings: sdkOptions).
 */
export function openAiClient(config: AgentPluginConfig, apiKey: string | undefined): ModelClient {
  const client = new OpenAI({
    ...sdkOptions(config, apiKey, OPENAI_BASE_URL),
    organization: null,
    project: null,
  });
  return {
    model: config.model,
    async complete(request: ModelRequest): Promise<ModelReply> {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
      if (request.system) messages.push({ role: 'system', content: request.system });
      messages.push({ role: 'user', content: request.prompt });
      let body: unknown;
      try {
        body = await client.chat.completions.create(
          {
            model: config.model,
            messages,
            stream: false,
            ...(config.max_tokens === undefined ? {} : { max_tokens: config.max_tokens }),
            ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
            ...(request.schema
              ? {
                  response_format: {
                    type: 'json_schema' as const,
                    json_schema: { name: 'output', schema: request.schema, strict: false },
                  },
                }
              : {}),
          },
          { signal: request.signal },
        );
      } catch (error) {
        throw sdkFailure(error, 'the model server', OpenAI);
      }
      const completion = parseReply(ChatCompletion, body, 'Chat Completions');
      const choice = completion.choices[0];
      return {
        text: choice?.message.content ?? choice?.message.refusal ?? '',
        usage: {
          model: completion.model || config.model,
          input_tokens: completion.usage?.prompt_tokens ?? 0,
          output_tokens: completion.usage?.completion_tokens ?? 0,
          ...(choice?.finish_reason ? { finish_reason: choice.finish_reason.slice(0, 64) } : {}),
        },
      };
    },
  };
}
