import { cachedExecutionsFromEnv, DEFAULT_CACHED_EXECUTIONS } from './cache-size.js';

describe('ORCHESTRA_CACHED_EXECUTIONS', () => {
  it('defaults to 10,000 and takes an integer within its bounds', () => {
    expect(cachedExecutionsFromEnv({})).toBe(DEFAULT_CACHED_EXECUTIONS);
    expect(DEFAULT_CACHED_EXECUTIONS).toBe(10_000);
    expect(cachedExecutionsFromEnv({ ORCHESTRA_CACHED_EXECUTIONS: '2000' })).toBe(2_000);
  });

  it('refuses a value out of bounds or not an integer, naming the variable and the range', () => {
    for (const text of ['10', '2000000', '250.5', 'many']) {
      expect(() => cachedExecutionsFromEnv({ ORCHESTRA_CACHED_EXECUTIONS: text })).toThrow(
        /ORCHESTRA_CACHED_EXECUTIONS: must be an integer from 100 to 1000000/,
      );
    }
  });
});
