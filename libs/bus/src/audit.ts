import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { fromPublic, fromSeed, type KeyPair } from '@nats-io/nkeys';

/**
 * The tamper-evident log (docs/audit.md). Every event record carries, in its headers, the SHA-256
 * of the previous record of its execution and its own hash over that link, the execution id and
 * its payload; the orchestrator signs that hash (the chain head it appends) with an Ed25519 key.
 * Deleting, altering, reordering, inserting or re-publishing a record breaks the chain at that
 * record, and a record not written by the holder of the key has no valid signature.
 */
export const AuditHeaders = {
  /** Hex SHA-256 of the previous record of the execution ('' for the first). */
  prev: 'Orchestra-Prev',
  /** Hex SHA-256 of prev, execution id and payload: see recordHash. */
  hash: 'Orchestra-Hash',
  /** Base64url Ed25519 signature of the hash's 32 bytes. */
  signature: 'Orchestra-Sig',
  /** Which key signed: see keyIdOf. */
  key: 'Orchestra-Key',
} as const;

/** The link of an execution's first record. */
export const GENESIS = '';

const utf8 = new TextEncoder();

/** sha256(prev "\n" execution_id "\n" payload), hex: binds a record to its place and its execution. */
export function recordHash(prev: string, executionId: string, payload: Uint8Array): string {
  return createHash('sha256')
    .update(utf8.encode(`${prev}\n${executionId}\n`))
    .update(payload)
    .digest('hex');
}

/** Signs chain heads; `keyId` names the public key that verifies them. */
export interface RecordSigner {
  readonly keyId: string;
  sign(hash: string): string;
}

/** Verifies signatures of one public key. */
export interface RecordVerifier {
  readonly keyId: string;
  verify(hash: string, signature: string): boolean;
}

/**
 * A signer from ORCHESTRA_SIGNING_KEY's text: an nkey seed (`SU…`, `SA…`, as `nsc` or
 * `orchestra up` makes them) or a PEM Ed25519 private key. Throws a clear error otherwise.
 */
export function signerFromKey(text: string): RecordSigner {
  const key = text.trim();
  if (/^S[A-Z]/.test(key)) {
    const pair = fromSeed(utf8.encode(key));
    const native = nativeKeyOf(pair);
    return {
      keyId: pair.getPublicKey(),
      sign: native
        ? (hash) => sign(null, Buffer.from(hash, 'hex'), native).toString('base64url')
        : (hash) => Buffer.from(pair.sign(Buffer.from(hash, 'hex'))).toString('base64url'),
    };
  }
  if (key.includes('PRIVATE KEY')) {
    const privateKey = asEd25519(() => createPrivateKey(key), 'private');
    return {
      keyId: keyIdOf(createPublicKey(privateKey)),
      sign: (hash) => sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64url'),
    };
  }
  throw new Error('the signing key must be an nkey seed (S…) or a PEM Ed25519 private key');
}

/** PKCS #8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The nkey's seed as a node:crypto key. Ed25519 is deterministic, so node's signatures are the
 * nkey's own, checked once here; nkeys signs in pure JavaScript (tweetnacl), which cost about
 * two thirds of the orchestrator's CPU with one record per decision (docs/performance.md).
 */
export function nativeKeyOf(pair: KeyPair): KeyObject | undefined {
  try {
    const seed = (pair as Partial<{ getRawSeed(): Uint8Array }>).getRawSeed?.();
    if (seed?.length !== 32) return undefined;
    const key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const probe = Buffer.from('orchestra signing key check');
    return sign(null, probe, key).equals(Buffer.from(pair.sign(probe))) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A verifier from a public key: an nkey public key (`U…`, `A…`), a PEM public key, an
 * `ed25519:<base64url>` key id, or a signing key (its public half).
 */
export function verifierFromKey(text: string): RecordVerifier {
  const key = text.trim();
  if (/^S[A-Z]/.test(key) || key.includes('PRIVATE KEY')) return verifierFromKey(signerFromKey(key).keyId);
  if (/^[UANOCX][A-Z2-7]{55}$/.test(key)) {
    const pair = fromPublic(key);
    return {
      keyId: key,
      verify: (hash, signature) =>
        safely(() => pair.verify(Buffer.from(hash, 'hex'), Buffer.from(signature, 'base64url'))),
    };
  }
  const publicKey = key.startsWith('ed25519:')
    ? asEd25519(
        () =>
          createPublicKey({
            key: { kty: 'OKP', crv: 'Ed25519', x: key.slice('ed25519:'.length) },
            format: 'jwk',
          }),
        'public',
      )
    : key.includes('PUBLIC KEY')
      ? asEd25519(() => createPublicKey(key), 'public')
      : undefined;
  if (!publicKey)
    throw new Error(
      'the public key must be an nkey public key (U…), a PEM Ed25519 public key or ed25519:<base64url>',
    );
  return {
    keyId: keyIdOf(publicKey),
    verify: (hash, signature) =>
      safely(() => verify(null, Buffer.from(hash, 'hex'), publicKey, Buffer.from(signature, 'base64url'))),
  };
}

/** A PEM key's id: `ed25519:` and its raw 32 bytes, base64url (nkeys are named by their public key). */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as { x?: string };
  return `ed25519:${jwk.x ?? ''}`;
}

function asEd25519(make: () => KeyObject, kind: 'private' | 'public'): KeyObject {
  let key: KeyObject;
  try {
    key = make();
  } catch (error) {
    throw new Error(`not a readable ${kind} key: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`the ${kind} key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
