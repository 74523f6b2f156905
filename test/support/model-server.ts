import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local model server for tests, on a free port, speaking the providers' real non-streaming
 * shapes as their SDKs read them: OpenAI Chat Completions (`POST <base>/chat/completions`,
 * `choices[].message.content`, `finish_reason`, `usage.prompt_tokens|completion_tokens`, errors
 * as `{ error: { message, type, param, code } }`) and Anthropic Messages (`POST /v1/messages`,
 * `content[].text`, `stop_reason`, `usage.input_tokens|output_tokens`, errors as
 * `{ type: "error", error: { type, message } }`). What it answers is scripted per request.
 */
export type Provider = 'openai' | 'anthropic';

/** One received request, as the model saw it. */
export interface ModelRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model?: string;
    system?: string;
    messages?: Array<{ role: string; content: string }>;
    response_format?: unknown;
    output_config?: unknown;
    max_tokens?: number;
    stream?: boolean;
  };
  /** The user prompt (the last user message's text). */
  prompt: string;
  /** The system prompt (OpenAI: the system message; Anthropic: `system`). */
  system: string | undefined;
  at: number;
}

/** What to answer one request with. */
export type Scene =
  | { reply: string; finish_reason?: string; usage?: { input: number; output: number }; delayMs?: number }
  | { status: number; retryAfter?: string; message?: string }
  /** Any body, as is: malformed JSON, an HTML page. */
  | { raw: { status: number; contentType: string; body: string } }
  /** Never answers; the socket stays open until the client gives up. */
  | { hang: true }
  /** Closes the connection without an answer. */
  | { destroy: true };

export type Script = (request: ModelRequest, index: number) => Scene;

export class ModelServer {
  readonly requests: ModelRequest[] = [];
  /** Requests whose connection the client closed before the answer (an aborted call). */
  readonly abandoned: ModelRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private script: Script;

  private constructor(
    private readonly server: Server,
    readonly provider: Provider,
    readonly apiKey: string | undefined,
    script: Script,
  ) {
    this.script = script;
  }

  static async start(
    provider: Provider,
    options: { apiKey?: string; script?: Script } = {},
  ): Promise<ModelServer> {
    let instance: ModelServer | undefined;
    const server = createServer((req, res) => {
      void instance?.handle(req, res);
    });
    instance = new ModelServer(server, provider, options.apiKey, options.script ?? echoScript);
    server.on('connection', (socket) => {
      instance?.sockets.add(socket);
      socket.once('close', () => instance?.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** What a plugin's `base_url` is: OpenAI's SDK appends `/chat/completions`, Anthropic's `/v1/messages`. */
  get baseUrl(): string {
    return this.provider === 'openai' ? `http://127.0.0.1:${this.port}/v1` : `http://127.0.0.1:${this.port}`;
  }

  play(script: Script): void {
    this.script = script;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const path = req.url ?? '';
    const expected = this.provider === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    if (req.method !== 'POST' || path !== expected)
      return this.error(res, 404, `no route ${req.method} ${path}`);
    let body: ModelRequest['body'];
    try {
      body = JSON.parse(text);
    } catch {
      return this.error(res, 400, 'the request body is not JSON');
    }
    const messages = body.messages ?? [];
    const request: ModelRequest = {
      path,
      headers: req.headers,
      body,
      prompt: [...messages].reverse().find((m) => m.role === 'user')?.content ?? '',
      system: this.provider === 'openai' ? messages.find((m) => m.role === 'system')?.content : body.system,
      at: Date.now(),
    };
    this.requests.push(request);
    if (!this.authorised(req)) return this.error(res, 401, 'invalid x-api-key');
    if (this.provider === 'anthropic' && !req.headers['anthropic-version']) {
      return this.error(res, 400, 'anthropic-version header is required');
    }
    const scene = this.script(request, this.requests.length - 1);
    res.once('close', () => {
      if (!res.writableFinished) this.abandoned.push(request);
    });
    if ('hang' in scene) return;
    if ('destroy' in scene) {
      req.socket.destroy();
      return;
    }
    if ('raw' in scene) {
      res.writeHead(scene.raw.status, { 'content-type': scene.raw.contentType });
      res.end(scene.raw.body);
      return;
    }
    if ('status' in scene) {
      return this.error(res, scene.status, scene.message, scene.retryAfter);
    }
    if (scene.delayMs) await new Promise((resolve) => setTimeout(resolve, scene.delayMs));
    if (res.destroyed) return;
    const usage = scene.usage ?? {
      input: tokens(request.prompt + (request.system ?? '')),
      output: tokens(scene.reply),
    };
    const model = body.model ?? 'unknown';
    const answer =
      this.provider === 'openai'
        ? {
            id: `chatcmpl-${randomUUID()}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: scene.reply, refusal: null },
                logprobs: null,
                finish_reason: scene.finish_reason ?? 'stop',
              },
            ],
            usage: {
              prompt_tokens: usage.input,
              completion_tokens: usage.output,
              total_tokens: usage.input + usage.output,
            },
          }
        : {
            id: `msg_${randomUUID()}`,
            type: 'message',
            role: 'assistant',
            model,
            content: [{ type: 'text', text: scene.reply }],
            stop_reason: scene.finish_reason ?? 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: usage.input, output_tokens: usage.output },
          };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  /** OpenAI's SDK sends `Authorization: Bearer`; Anthropic's sends it too, or `x-api-key`. */
  private authorised(req: IncomingMessage): boolean {
    if (this.apiKey === undefined) return true;
    return req.headers.authorization === `Bearer ${this.apiKey}` || req.headers['x-api-key'] === this.apiKey;
  }

  private error(res: ServerResponse, status: number, message?: string, retryAfter?: string): void {
    const text = message ?? (status === 429 ? 'Rate limit reached, retry later' : `error ${status}`);
    const type =
      status === 429
        ? 'rate_limit_error'
        : status === 401
          ? 'authentication_error'
          : status >= 500
            ? 'api_error'
            : 'invalid_request_error';
    const body =
      this.provider === 'openai'
        ? { error: { message: text, type, param: null, code: status === 401 ? 'invalid_api_key' : null } }
        : { type: 'error', error: { type, message: text }, request_id: `req_${randomUUID()}` };
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(retryAfter ? { 'retry-after': retryAfter } : {}),
    });
    res.end(JSON.stringify(body));
  }
}

/** Roughly four characters per token, as a stand-in for a tokenizer. */
export function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The default model: reads the seed's four prompt lines back and answers JSON built from them,
 * so a test can tell that an output came from the model and which input it saw. Asked for a
 * schema (response_format / output_config), it answers a value of that schema instead, with
 * what it read in its first string field.
 */
export const echoScript: Script = (request) => {
  const seen = readSeedPrompt(request.prompt);
  const schema = requestedSchema(request);
  return { reply: JSON.stringify(schema ? sampleOf(schema, `answered: ${seen.answered}`) : seen) };
};

function requestedSchema(request: ModelRequest): Record<string, unknown> | undefined {
  const openai = request.body.response_format as
    | { json_schema?: { schema?: Record<string, unknown> } }
    | undefined;
  const anthropic = request.body.output_config as
    | { format?: { schema?: Record<string, unknown> } }
    | undefined;
  return openai?.json_schema?.schema ?? anthropic?.format?.schema;
}

/** The smallest value of a (simple) JSON Schema: required properties only; `text` in every string. */
export function sampleOf(schema: Record<string, unknown>, text: string): unknown {
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((key) => [key, sampleOf(properties[key] ?? {}, text)]));
    }
    case 'array':
      return [];
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return text;
  }
}

export function readSeedPrompt(prompt: string): {
  answered: string;
  entry_point: string;
  input_context: unknown;
  output_key: string;
} {
  const line = (label: string) => new RegExp(`^${label}: (.*)$`, 'm').exec(prompt)?.[1] ?? '';
  const input = line('Input Context');
  let input_context: unknown = input;
  try {
    input_context = JSON.parse(input);
  } catch {
    // left as text
  }
  return {
    answered: line('Execute'),
    entry_point: line('Entry Point'),
    input_context,
    output_key: line('Expected Output Key'),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
