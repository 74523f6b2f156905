import { EventRecord } from '@orchestra/contracts';
import { AuditHeaders, GENESIS, type RecordVerifier, recordHash } from './audit.js';
import { decodeText } from './codec.js';

/** One stored event record as an auditor sees it: exact payload text and its audit headers. */
export interface AuditRecord {
  seq: number;
  /** The record's exact JSON text (what was hashed). */
  payload: string;
  prev?: string | undefined;
  hash?: string | undefined;
  signature?: string | undefined;
  key?: string | undefined;
}

export interface ChainProblem {
  /** Stream sequence and position (0-based) of the first record that does not verify. */
  seq: number;
  index: number;
  problem: string;
}

export interface ChainVerdict {
  ok: boolean;
  execution_id: string;
  records: number;
  /** Records whose signature was checked against a trusted key and verified. */
  signatures_verified: number;
  /** False when no trusted key was given: the chain was checked, the signatures were not. */
  signatures_checked: boolean;
  /** The hash of the last record: what the next one must link to. */
  head: string;
  /** Whether the log ends with the execution's end (ExecutionFinished or ExecutionRejected). */
  ends_with_finish: boolean;
  first_problem?: ChainProblem;
}

/** The audit headers of a stored message, as plain fields. */
export function auditFieldsOf(
  headers: { get(name: string): string } | undefined,
): Omit<AuditRecord, 'seq' | 'payload'> {
  const field = (name: string) => {
    const value = headers?.get(name);
    return value ? value : undefined;
  };
  return {
    prev: headers?.get(AuditHeaders.prev) ?? undefined,
    hash: field(AuditHeaders.hash),
    signature: field(AuditHeaders.signature),
    key: field(AuditHeaders.key),
  };
}

/** Where a stored record sits in its execution's hash chain (docs/audit.md). */
export interface ChainLink {
  /** The hash of the record before it (GENESIS for the first). */
  prev: string;
  /** Its own hash: what the next record links to. */
  hash: string;
}

/** The record's place in the chain, from its headers; undefined for a record without one. */
export function chainLinkOf(headers: { get(name: string): string } | undefined): ChainLink | undefined {
  const { prev, hash } = auditFieldsOf(headers);
  return hash === undefined ? undefined : { prev: prev ?? GENESIS, hash };
}

/**
 * Checks an execution's records in stream order: each must link to the one before it, match its
 * own hash, and (given trusted keys) carry a valid signature by one of them. Names the first
 * record that does not, and what is wrong with it: altered, a copy of an earlier one, out of
 * place (reordered or re-published), after a gap (a record deleted, or this one inserted),
 * unsigned or signed by a key that is not trusted, forged (a signature that does not verify), or
 * not an event record of this execution. A log whose last records were deleted still verifies:
 * `ends_with_finish` tells whether it reaches the execution's end.
 */
export function verifyChain(
  executionId: string,
  records: readonly AuditRecord[],
  trusted: readonly RecordVerifier[] = [],
): ChainVerdict {
  const verdict: ChainVerdict = {
    ok: true,
    execution_id: executionId,
    records: records.length,
    signatures_verified: 0,
    signatures_checked: trusted.length > 0,
    head: GENESIS,
    ends_with_finish: false,
  };
  const seen = new Map<string, number>();
  let prev = GENESIS;
  for (const [index, record] of records.entries()) {
    const problem = recordProblem(executionId, record, prev, seen, trusted);
    if (problem !== undefined) {
      verdict.ok = false;
      verdict.first_problem = { seq: record.seq, index, problem };
      return verdict;
    }
    if (trusted.length > 0) verdict.signatures_verified += 1;
    prev = record.hash as string;
    seen.set(prev, record.seq);
    verdict.head = prev;
    verdict.ends_with_finish = endsTheExecution(record.payload);
  }
  return verdict;
}

function recordProblem(
  executionId: string,
  record: AuditRecord,
  prev: string,
  seen: ReadonlyMap<string, number>,
  trusted: readonly RecordVerifier[],
): string | undefined {
  if (!record.hash) return 'carries no hash: written outside the chain, or its headers were stripped';
  const payload = new TextEncoder().encode(record.payload);
  if (recordHash(record.prev ?? GENESIS, executionId, payload) !== record.hash)
    return 'altered: its content (or its link) does not match its hash';
  const copyOf = seen.get(record.hash);
  if (copyOf !== undefined) return `re-published: a copy of the record at sequence ${copyOf}`;
  const link = record.prev ?? GENESIS;
  if (link !== prev) {
    const after = seen.get(link);
    if (after !== undefined)
      return `out of place: it follows the record at sequence ${after}, not the one before it (reordered or re-published)`;
    return prev === GENESIS && link !== GENESIS
      ? 'the records before it are missing (deleted)'
      : 'a record before it is missing (deleted), or this one was inserted';
  }
  if (trusted.length > 0) {
    if (!record.signature) return 'unsigned: not appended by a holder of the signing key';
    const verifier = trusted.find((candidate) => candidate.keyId === record.key);
    if (!verifier) return `signed by a key that is not trusted (${record.key ?? 'none named'})`;
    if (!verifier.verify(record.hash, record.signature)) return 'forged: its signature does not verify';
  }
  const parsed = EventRecord.safeParse(safeJson(record.payload));
  if (!parsed.success) return 'not a valid event record';
  if (parsed.data.some((event) => event.execution_id !== executionId))
    return `holds an event of another execution than ${executionId}`;
  return undefined;
}

function endsTheExecution(payload: string): boolean {
  const parsed = EventRecord.safeParse(safeJson(payload));
  const last = parsed.success ? parsed.data.at(-1) : undefined;
  return last?.type === 'ExecutionFinished' || last?.type === 'ExecutionRejected';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A record's exact text from its stored bytes. */
export const payloadText = (data: Uint8Array): string => decodeText(data);
