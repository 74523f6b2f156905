import { claimReference } from './claim.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('claim references (README, "Large values")', () => {
  it('recognises a reference and nothing else', () => {
    expect(claimReference(bytes('{"$claim":{"name":"orchestra.outcomes.e.1","bytes":2000000}}'))).toEqual({
      name: 'orchestra.outcomes.e.1',
      bytes: 2_000_000,
    });
    expect(claimReference(bytes('{"type":"TaskOutcome"}'))).toBeUndefined();
    expect(claimReference(bytes('{"$claim":{"name":7}}'))).toBeUndefined();
    expect(claimReference(bytes('{"$claim":'))).toBeUndefined();
    // A large value is never parsed to find out: a reference is small.
    expect(
      claimReference(bytes(`{"$claim":{"name":"x","bytes":1},"pad":"${'x'.repeat(2000)}"}`)),
    ).toBeUndefined();
  });
});
