import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIMITS } from '@orchestra/contracts';
import { freePort, useNatsServer } from '@orchestra/testing';
import { DispatchHarness, failed } from '../../../../test/support/dispatch-harness.js';
import { waitFor } from '../../../../test/support/wait.js';

// http plugins in a real dispatcher on a real nats-server, against a local HTTP service.

const SECRET = 'hmac-secret-for-the-crm-0123456789';
const server = useNatsServer();

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
  closedEarly: boolean;
}
type Answer = (received: Received, index: number, res: ServerResponse) => void;

let service: Server;
let url: string;
let answer: Answer = (_r, _i, res) => json(res, 200, { ok: true });
const received: Received[] = [];
let harness: DispatchHarness;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  service = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Received = {
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        closedEarly: false,
      };
      received.push(entry);
      res.once('close', () => {
        entry.closedEarly = !res.writableFinished;
      });
      answer(entry, received.length - 1, res);
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/orchestra`;
  const closedPort = await freePort();
  harness = await DispatchHarness.start(
    server(),
    `
plugins:
  - { name: crm@acme, kind: http, url: "${url}", secret_env: CRM_HMAC_SECRET }
  - { name: quick@acme, kind: http, url: "${url}", timeout_ms: 300 }
  - { name: nobody@acme, kind: http, url: "http://127.0.0.1:${closedPort}/closed" }
`,
    { CRM_HMAC_SECRET: SECRET },
  );
});
afterAll(async () => {
  await harness?.stop();
  service?.closeAllConnections();
  await new Promise((resolve) => service?.close(resolve));
});
beforeEach(() => {
  received.length = 0;
});

describe('http plugins', () => {
  it('POSTs the exact command, signed over its body, with the msg id as idempotency key; 2xx JSON is the output', async () => {
    answer = (r, _i, res) => json(res, 200, { account: 'ACME', seen: JSON.parse(r.body).input_context });
    const task = harness.command('crm@acme');
    const outcome = await harness.run(task);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      output: { account: 'ACME', seen: task.input_context },
    });
    const request = received[0];
    expect(JSON.parse(request?.body ?? '')).toEqual(task);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(`${task.execution_id}:task-1:1`);
    // What a service does to trust the request: recompute the HMAC over the raw body it received.
    const expected = `sha256=${createHmac('sha256', SECRET)
      .update(request?.body ?? '')
      .digest('hex')}`;
    const given = String(request?.headers['orchestra-signature']);
    expect(given.length).toBe(expected.length);
    expect(timingSafeEqual(Buffer.from(given), Buffer.from(expected))).toBe(true);
  });

  it('sends no signature when the plugin has no secret', async () => {
    answer = (_r, _i, res) => json(res, 200, { ok: true });
    await harness.run(harness.command('quick@acme'));
    expect(received[0]?.headers['orchestra-signature']).toBeUndefined();
  });

  it('fails a 4xx as non-retryable and a 5xx as retryable, quoting the answer', async () => {
    answer = (_r, _i, res) => json(res, 422, { error: 'unknown account' });
    expect(failed(await harness.run(harness.command('crm@acme')))).toEqual({
      code: 'HTTP_422',
      message: 'HTTP 422: {"error":"unknown account"}',
      retryable: false,
    });
    answer = (_r, _i, res) => json(res, 502, { error: 'upstream down' });
    expect(failed(await harness.run(harness.command('crm@acme')))).toEqual({
      code: 'HTTP_502',
      message: 'HTTP 502: {"error":"upstream down"}',
    });
  });

  it('waits out a 503 with Retry-After: 1, then succeeds in the same attempt', async () => {
    answer = (_r, i, res) =>
      i === 0 ? json(res, 503, { error: 'busy' }, { 'retry-after': '1' }) : json(res, 200, { ok: 'later' });
    const outcome = await harness.run(harness.command('crm@acme'));
    expect(outcome).toMatchObject({ status: 'succeeded', output: { ok: 'later' } });
    expect(received).toHaveLength(2);
    expect(received[1]?.headers['idempotency-key']).toBe(received[0]?.headers['idempotency-key']);
  });

  it.each([
    [
      'an HTML page',
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Login</body></html>');
      },
      'BAD_RESPONSE',
    ],
    ['an empty body', (res: ServerResponse) => res.writeHead(200).end(), 'EMPTY_REPLY'],
    [
      'a body over the output limit',
      (res: ServerResponse) => json(res, 200, { big: 'x'.repeat(LIMITS.outputBytes + 1) }),
      'OUTPUT_TOO_LARGE',
    ],
    ['a closed connection', (res: ServerResponse) => res.socket?.destroy(), 'CONNECTION_FAILED'],
  ] as const)('fails the attempt on %s with a clear code', async (_what, respond, code) => {
    answer = (_r, _i, res) => respond(res);
    const task = harness.command('crm@acme');
    expect(failed(await harness.run(task))).toMatchObject({ code });
    expect(await harness.outcomes(task.execution_id)).toHaveLength(1);
  });

  it('fails a hanging service at timeout_ms, and a refused connection, as retryable', async () => {
    answer = () => undefined;
    const hung = failed(await harness.run(harness.command('quick@acme')));
    expect(hung).toEqual({ code: 'UPSTREAM_TIMEOUT', message: `no answer from ${url} within 300 ms` });
    await waitFor(() => received[0]?.closedEarly, { what: 'the request to be abandoned' });
    const refused = failed(await harness.run(harness.command('nobody@acme')));
    expect(refused).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('aborts the request on cancel: no outcome', async () => {
    answer = () => undefined;
    const task = harness.command('crm@acme');
    await harness.publish(task);
    await waitFor(() => received.length === 1, { what: 'the request' });
    harness.cancel(task.execution_id);
    await waitFor(() => received[0]?.closedEarly, { what: 'the request to be abandoned', timeoutMs: 3_000 });
    expect(await harness.outcomes(task.execution_id)).toEqual([]);
  });

  it('never lets the secret out: not in errors nor in logs, even when the service echoes it', async () => {
    answer = (r, _i, res) =>
      json(res, 401, { error: `bad signature ${SECRET}`, got: r.headers['orchestra-signature'] });
    const outcome = await harness.run(harness.command('crm@acme'));
    expect(failed(outcome).message).toContain('bad signature [redacted]');
    expect(JSON.stringify(outcome) + harness.logger.lines.join('\n')).not.toContain(SECRET);
  });
});
