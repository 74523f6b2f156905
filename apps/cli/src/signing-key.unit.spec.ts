import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signerFromKey } from '@orchestra/bus';
import { localSigningKey, localVerifyKeys, VERIFY_KEY_FILE } from './signing-key.js';
import { run } from './testing/run.js';

/** Which keys sign and which are trusted (docs/audit.md, "Key management"). */
describe('the local signing key and the trusted keys', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'orchestra-keys-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('trusts nothing before orchestra up made a key, then the public half of the key it made', () => {
    expect(localVerifyKeys(cwd, {})).toEqual([]);
    const made = localSigningKey(cwd);
    expect(made.created).toBe(true);
    expect(statSync(join(cwd, '.orchestra', 'signing-key.nk')).mode & 0o777).toBe(0o600);
    expect(signerFromKey(made.seed).keyId).toBe(made.publicKey);
    expect(localVerifyKeys(cwd, {})).toEqual([made.publicKey]);
    expect(localSigningKey(cwd)).toEqual({ ...made, created: false });
    expect(VERIFY_KEY_FILE).toBe(join('.orchestra', 'signing-key.pub'));
  });

  it('trusts ORCHESTRA_VERIFY_KEY instead when it is set, several keys separated by commas', () => {
    expect(localVerifyKeys(cwd, { ORCHESTRA_VERIFY_KEY: ' UAAA , UBBB,' })).toEqual(['UAAA', 'UBBB']);
  });

  it('makes a new pair with orchestra keygen, as the two variables that use it', async () => {
    const result = await run(['keygen']);
    expect(result.code).toBe(0);
    const [signing, verify, ...rest] = result.stdout.trimEnd().split('\n');
    expect(rest).toEqual([]);
    const seed = /^ORCHESTRA_SIGNING_KEY=(S\w+)$/.exec(signing ?? '')?.[1] ?? '';
    expect(verify).toBe(`ORCHESTRA_VERIFY_KEY=${signerFromKey(seed).keyId}`);
    expect((await run(['keygen'])).stdout).not.toBe(result.stdout);
  });
});
