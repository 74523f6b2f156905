import Anthropic from '@anthropic-ai/sdk';
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

/** The fields of a Messages API response this plugin reads (non-streaming). */
const Message = z.object({
  model: z.string().optional(),
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable().optional(),
  usage: z.object({ input_tokens: TokenCount, output_tokens: TokenCount }),
});

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** The Messages API requires max_tokens. */
const DEFAULT_MAX_TOKENS = 4096;

/** The Messages API through the official `@anthropic-ai/sdk` (SDK settings: sdkOptions). */
export function anthropicClient(config: AgentPluginConfig, apiKey: string | undefined): ModelClient {
  const client = new Anthropic(sdkOptions(config, apiKey, ANTHROPIC_BASE_URL));
  return {
    model: config.model,
    async complete(request: ModelRequest): Promise<ModelReply> {
      let body: unknown;
      try {
        body = await client.messages.create(
          {
            model: config.model,
            max_tokens: config.max_tokens ?? DEFAULT_MAX_TOKENS,
            messages: [{ role: 'user', content: request.prompt }],
            stream: false,
            ...(request.system ? { system: request.system } : {}),
            ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
            ...(request.schema
              ? { output_config: { format: { type: 'json_schema' as const, schema: request.schema } } }
              : {}),
          },
          { signal: request.signal },
        );
      } catch (error) {
        throw sdkFailure(error, 'the Anthropic API', Anthropic);
      }
      const message = parseReply(Message, body, 'Messages API');
      const text = message.content
        .filter((block) => block.type === 'text')
        .map((block) => block.text ?? '')
        .join('');
      return {
        text,
        usage: {
          model: message.model || config.model,
          input_tokens: message.usage.input_tokens,
          output_tokens: message.usage.output_tokens,
          ...(message.stop_reason ? { finish_reason: message.stop_reason.slice(0, 64) } : {}),
        },
      };
    },
  };
}
