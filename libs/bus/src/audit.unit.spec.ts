import { createHash } from 'node:crypto';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { nativeKeyOf, signerFromKey } from './audit.js';

describe('signing with an nkey seed', () => {
  const seed = new TextDecoder().decode(createUser().getSeed());
  const pair = fromSeed(new TextEncoder().encode(seed));

  it("uses node's own Ed25519 for it (nkeys' pure-JavaScript signing was most of the orchestrator's CPU)", () => {
    expect(nativeKeyOf(pair)?.asymmetricKeyType).toBe('ed25519');
  });

  it('gives the very signatures nkeys gives, so records signed either way verify alike', () => {
    const signer = signerFromKey(seed);
    const hashes = ['00'.repeat(32), createHash('sha256').update('record').digest('hex')];
    for (const hash of hashes) {
      const bytes = Buffer.from(hash, 'hex');
      expect(signer.sign(hash)).toBe(Buffer.from(pair.sign(bytes)).toString('base64url'));
      expect(pair.verify(bytes, Buffer.from(signer.sign(hash), 'base64url'))).toBe(true);
    }
  });
});
