import type { AuditRecord } from '@orchestra/bus';
import { ExecutionId, formatPath, Streams } from '@orchestra/contracts';
import { z } from 'zod';

/**
 * The export format of `orchestra export` (docs/audit.md, "The export format"): JSON Lines, a
 * header line, then one line per stored record of the execution in stream order, with the exact
 * payload text that was hashed and the record's audit headers. `orchestra verify --file` reads it
 * back without NATS. A reader refuses a version it does not know.
 */
export const AUDIT_FORMAT = 'orchestra-audit';
export const AUDIT_FORMAT_VERSION = 1;

const Hash = z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256');

export const AuditFileHeader = z.strictObject({
  format: z.literal(AUDIT_FORMAT),
  version: z.literal(AUDIT_FORMAT_VERSION),
  execution_id: ExecutionId,
  /** How many record lines follow: a shorter file was cut off. */
  records: z.number().int().min(0),
  /** The last record's hash when exported ('' for none). */
  head: z.union([Hash, z.literal('')]),
  exported_at: z.iso.datetime(),
  stream: z.string(),
});
export type AuditFileHeader = z.infer<typeof AuditFileHeader>;

export const AuditFileRecord = z.strictObject({
  seq: z.number().int().min(1),
  /** The record's exact JSON text, as stored and hashed. */
  payload: z.string(),
  prev: z.string().optional(),
  hash: z.string().optional(),
  signature: z.string().optional(),
  key: z.string().optional(),
});

/** The file's text: the header line and one line per record, each ending with a newline. */
export function formatAuditFile(
  executionId: string,
  records: readonly AuditRecord[],
  exportedAt: Date = new Date(),
): string {
  const header: AuditFileHeader = {
    format: AUDIT_FORMAT,
    version: AUDIT_FORMAT_VERSION,
    execution_id: executionId,
    records: records.length,
    head: records.at(-1)?.hash ?? '',
    exported_at: exportedAt.toISOString(),
    stream: Streams.events,
  };
  const lines = [JSON.stringify(header)];
  for (const record of records) {
    const { seq, payload, prev, hash, signature, key } = record;
    lines.push(JSON.stringify({ seq, payload, prev, hash, signature, key }));
  }
  return `${lines.join('\n')}\n`;
}

export type ParsedAuditFile =
  | { ok: true; header: AuditFileHeader; records: AuditRecord[] }
  | { ok: false; problem: string };

/**
 * Reads an exported file back: every line must parse, the header must name this format and a
 * version this reader knows, and the file must hold as many records as the header announces. The
 * first problem is named by its line number; nothing is guessed or skipped.
 */
export function parseAuditFile(text: string): ParsedAuditFile {
  if (text.trim() === '') return { ok: false, problem: 'the file is empty: not an Orchestra audit export' };
  const lines = text.split('\n');
  // One newline ends the last line; a file cut inside a line ends without it.
  const complete = lines.at(-1) === '';
  if (complete) lines.pop();
  const header = parseHeader(lines[0] ?? '');
  if (!header.ok) return header;
  const records: AuditRecord[] = [];
  for (const [index, line] of lines.slice(1).entries()) {
    const number = index + 2;
    const json = parseJson(line);
    if (json === undefined)
      return {
        ok: false,
        problem: `line ${number}: not JSON${number === lines.length && !complete ? ' (the file is cut off inside it: truncated)' : ''}`,
      };
    const record = AuditFileRecord.safeParse(json);
    if (!record.success) return { ok: false, problem: `line ${number}: ${issuesOf(record.error)}` };
    records.push(record.data);
  }
  const { records: announced } = header.header;
  if (records.length !== announced)
    return {
      ok: false,
      problem:
        records.length < announced
          ? `truncated: the header announces ${announced} records, the file holds ${records.length}`
          : `the header announces ${announced} records, the file holds ${records.length}: lines were added`,
    };
  if (!complete && records.length > 0)
    return { ok: false, problem: `line ${lines.length}: the file does not end with a newline (truncated)` };
  return { ok: true, header: header.header, records };
}

function parseHeader(line: string): { ok: true; header: AuditFileHeader } | { ok: false; problem: string } {
  const json = parseJson(line);
  if (json === undefined || typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, problem: 'line 1: not an Orchestra audit export (no JSON header line)' };
  const { format, version } = json as { format?: unknown; version?: unknown };
  if (format !== AUDIT_FORMAT)
    return {
      ok: false,
      problem: `line 1: not an Orchestra audit export (format ${JSON.stringify(format)}, expected "${AUDIT_FORMAT}")`,
    };
  if (version !== AUDIT_FORMAT_VERSION)
    return {
      ok: false,
      problem: `line 1: format version ${JSON.stringify(version)} is not one this orchestra reads (${AUDIT_FORMAT_VERSION})`,
    };
  const header = AuditFileHeader.safeParse(json);
  if (!header.success) return { ok: false, problem: `line 1: ${issuesOf(header.error)}` };
  return { ok: true, header: header.data };
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function issuesOf(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}
