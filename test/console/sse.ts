/** A minimal Server-Sent Events reader over fetch, for tests (no EventSource in Node 20). */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Reads `url` as an event stream until `done(events)` says so (then closes the connection) or
 * `timeoutMs` passes (then throws with what came).
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  done: (events: SseEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, {
      headers: { Accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    });
    if (!response.ok || !response.body)
      throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event) events.push(event);
        end = buffer.indexOf('\n\n');
      }
      if (done(events)) break;
    }
    return events;
  } catch (error) {
    if (abort.signal.aborted) {
      throw new Error(`${url}: no end after ${timeoutMs} ms; got ${events.map((e) => e.event).join(',')}`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length === 0) return undefined;
  return { ...(id === undefined ? {} : { id }), event, data: data.join('\n') };
}
