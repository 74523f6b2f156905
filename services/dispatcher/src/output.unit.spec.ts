import { LIMITS } from '@orchestra/contracts';
import { checkedOutput } from './output.js';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
};

describe('checkedOutput', () => {
  it('keeps a plain JSON value as it is (the same object, not a copy)', () => {
    const output = { text: 'done', items: [1, 2, { ok: true }] };
    expect(checkedOutput(output)).toBe(output);
    expect(checkedOutput(undefined)).toBeNull();
  });

  it('turns what JSON would say into JSON (a Date, undefined inside)', () => {
    const at = new Date('2026-12-07T00:00:00Z');
    expect(checkedOutput({ at, gone: undefined })).toEqual({ at: '2026-12-07T00:00:00.000Z' });
  });

  it('refuses an output nesting deeper than the contract allows, naming where, whatever its kind', () => {
    expect(checkedOutput(nested(LIMITS.jsonDepth))).toEqual(nested(LIMITS.jsonDepth));
    for (const output of [
      nested(LIMITS.jsonDepth + 1),
      { at: new Date(0), deep: nested(LIMITS.jsonDepth) },
    ]) {
      expect(() => checkedOutput(output)).toThrow(
        expect.objectContaining({ code: 'OUTPUT_TOO_DEEP', message: expect.stringContaining('output.') }),
      );
    }
  });
});
