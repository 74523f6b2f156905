import { conflictBackoffMs } from './conflict-backoff.js';

describe('the wait after an append conflict', () => {
  it('is at most 2 ms after the first conflict, doubling with each one, up to 200 ms', () => {
    const longest = (conflicts: number) => conflictBackoffMs(conflicts, () => 1);
    expect([0, 1, 2, 3, 6, 7, 19].map(longest)).toEqual([2, 4, 8, 16, 128, 200, 200]);
  });

  it('is a random part of that (full jitter), from no wait at all', () => {
    expect(conflictBackoffMs(3, () => 0)).toBe(0);
    expect(conflictBackoffMs(3, () => 0.25)).toBe(4);
  });
});
