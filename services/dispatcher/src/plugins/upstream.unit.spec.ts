import { signatureOf } from './http-plugin.js';
import { honouringRetryAfter, redactor, retryAfterMs, statusError, UpstreamError } from './upstream.js';

const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });

describe('answers of models and services', () => {
  it('reads Retry-After in seconds, as a date, and retry-after-ms first', () => {
    expect(retryAfterMs(headers({ 'retry-after': '1' }))).toBe(1000);
    expect(retryAfterMs(headers({ 'retry-after': '0.5' }))).toBe(500);
    expect(
      retryAfterMs(
        headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }),
        Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'),
      ),
    ).toBe(5000);
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
  });

  it('makes 408, 429 and 5xx retryable, every other 4xx not', () => {
    for (const status of [408, 429, 500, 502, 503, 529]) expect(statusError(status, '').retryable).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 422])
      expect(statusError(status, '').retryable).toBe(false);
    expect(statusError(429, 'slow down', 1000)).toMatchObject({
      code: 'HTTP_429',
      message: 'HTTP 429: slow down',
      retryAfterMs: 1000,
    });
    expect(statusError(400, 'bad', 1000).retryAfterMs).toBeUndefined();
  });

  it('calls again after Retry-After while the deadline allows, then gives up with the failure', async () => {
    const signal = new AbortController().signal;
    let calls = 0;
    const limited = async () => {
      calls += 1;
      throw new UpstreamError('HTTP 429', 'HTTP_429', { retryAfterMs: 20 });
    };
    await expect(
      honouringRetryAfter(limited, { signal, deadlineAt: Date.now() + 10_000, maxWaits: 3 }),
    ).rejects.toThrow('HTTP 429');
    expect(calls).toBe(4);
    calls = 0;
    await expect(honouringRetryAfter(limited, { signal, deadlineAt: Date.now() + 10 })).rejects.toThrow(
      'HTTP 429',
    );
    expect(calls).toBe(1);
  });

  it('signs the exact body with HMAC-SHA256', () => {
    // Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    expect(signatureOf('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('redacts every secret of four characters or more, longest first', () => {
    const redact = redactor(['abcd', 'abcdef', '', 'xy']);
    expect(redact('abcdef abcd xy')).toBe('[redacted] [redacted] xy');
  });
});
