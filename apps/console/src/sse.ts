import type { IncomingMessage, ServerResponse } from 'node:http';

const HEARTBEAT_MS = 15_000;
/**
 * A browser that stopped reading (a frozen tab) is cut off past this much unsent data; when it
 * comes back it reconnects with Last-Event-ID and resumes where it was.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** How long a browser waits before it reconnects (it then sends Last-Event-ID by itself). */
const RETRY_MS = 1_000;

/**
 * One Server-Sent Events response. `send` waits while the socket's buffer is full, so a slow
 * browser slows the JetStream consumer feeding it instead of growing memory without bound.
 */
export class SseStream {
  private open = true;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly response: ServerResponse) {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Proxies (nginx) must pass each event on at once.
      'X-Accel-Buffering': 'no',
    });
    response.write(`retry: ${RETRY_MS}\n\n`);
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
    response.once('close', () => this.close());
  }

  get isOpen(): boolean {
    return this.open;
  }

  onClose(listener: () => void): void {
    if (this.open) this.closeListeners.push(listener);
    else listener();
  }

  /** One event; `id` becomes the browser's Last-Event-ID. JSON never holds a raw newline. */
  async send(event: string, data: unknown, id?: number): Promise<void> {
    const head = id === undefined ? '' : `id: ${id}\n`;
    if (this.write(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        resolve();
      };
      this.response.once('drain', done);
      this.onClose(done);
    });
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    clearInterval(this.heartbeat);
    this.response.end();
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  private write(text: string): boolean {
    if (!this.open) return true;
    if (this.response.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
      return true;
    }
    return this.response.write(text);
  }
}

/**
 * Where a stream resumes: the `Last-Event-ID` a reconnecting browser sends, else `?after=` of
 * the first connection. Undefined: from the beginning. An id that is not a sequence is refused.
 */
export function resumePoint(request: IncomingMessage, after: unknown): number | undefined | 'invalid' {
  const header = request.headers['last-event-id'];
  const value = typeof header === 'string' && header !== '' ? header : after;
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return 'invalid';
  return Number(value);
}
