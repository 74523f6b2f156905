import { DEFAULT_RETENTION_MS, parseDuration, parseSize, retentionFromEnv } from './retention.js';

describe('retention settings (docs/reliability.md, "Retention")', () => {
  it('reads durations and sizes as a person writes them', () => {
    expect(parseDuration('90s', 'X')).toBe(90_000);
    expect(parseDuration('15m', 'X')).toBe(900_000);
    expect(parseDuration('12h', 'X')).toBe(43_200_000);
    expect(parseDuration('30d', 'X')).toBe(30 * 86_400_000);
    expect(parseDuration('250', 'X')).toBe(250);
    expect(parseDuration('0', 'X')).toBe(0);
    expect(parseSize('512MiB', 'X')).toBe(512 * 1024 ** 2);
    expect(parseSize('10GiB', 'X')).toBe(10 * 1024 ** 3);
    expect(parseSize('-1', 'X')).toBe(-1);
    expect(() => parseDuration('a week', 'ORCHESTRA_EVENTS_MAX_AGE')).toThrow(/ORCHESTRA_EVENTS_MAX_AGE/);
    expect(() => parseSize('10GB', 'X')).toThrow(/512MiB/);
  });

  it('defaults to 30 days, the results and payloads following the events', () => {
    expect(retentionFromEnv({})).toEqual({
      eventsMaxAgeMs: DEFAULT_RETENTION_MS,
      eventsMaxBytes: -1,
      resultsMaxAgeMs: DEFAULT_RETENTION_MS,
      resultsMaxBytes: -1,
      payloadsMaxAgeMs: DEFAULT_RETENTION_MS,
      payloadsMaxBytes: -1,
      deadLettersMaxAgeMs: DEFAULT_RETENTION_MS,
      deadLettersMaxBytes: -1,
      workQueueMaxBytes: -1,
    });
    const short = retentionFromEnv({ ORCHESTRA_EVENTS_MAX_AGE: '5m', ORCHESTRA_RESULTS_MAX_BYTES: '1GiB' });
    expect(short).toMatchObject({
      eventsMaxAgeMs: 300_000,
      resultsMaxAgeMs: 300_000,
      payloadsMaxAgeMs: 300_000,
    });
    expect(short.resultsMaxBytes).toBe(1024 ** 3);
  });

  it('lists every bad variable at once', () => {
    expect(() =>
      retentionFromEnv({ ORCHESTRA_EVENTS_MAX_AGE: 'soon', ORCHESTRA_WORK_QUEUE_MAX_BYTES: 'lots' }),
    ).toThrow(/ORCHESTRA_EVENTS_MAX_AGE[\s\S]*ORCHESTRA_WORK_QUEUE_MAX_BYTES/);
  });
});
