import { createUser } from '@nats-io/nkeys';
import { type AuditRecord, recordHash, signerFromKey, verifierFromKey, verifyChain } from '@orchestra/bus';
import { formatAuditFile, parseAuditFile } from './audit-file.js';

/** The export format read back: exactly what was written, and every way a file can be broken. */
describe('the audit export format', () => {
  const signer = signerFromKey(new TextDecoder().decode(createUser().getSeed()));
  const records: AuditRecord[] = [];
  let prev = '';
  for (const [index, phase] of ['a', 'b', 'c'].entries()) {
    const payload = `[{"type":"PhaseStarted","execution_id":"x-1","at":${index + 1},"phase_id":"${phase}"}]`;
    const hash = recordHash(prev, 'x-1', new TextEncoder().encode(payload));
    records.push({ seq: index + 10, payload, prev, hash, signature: signer.sign(hash), key: signer.keyId });
    prev = hash;
  }
  const text = formatAuditFile('x-1', records, new Date('2026-01-02T03:04:05.000Z'));

  it('writes a versioned header then one line per record, and reads them back unchanged', () => {
    const lines = text.split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0] as string)).toEqual({
      format: 'orchestra-audit',
      version: 1,
      execution_id: 'x-1',
      records: 3,
      head: prev,
      exported_at: '2026-01-02T03:04:05.000Z',
      stream: 'ORCHESTRA_EVENTS',
    });
    const parsed = parseAuditFile(text);
    expect(parsed).toMatchObject({ ok: true, records });
    if (!parsed.ok) return;
    const verdict = verifyChain('x-1', parsed.records, [verifierFromKey(signer.keyId)]);
    expect(verdict).toMatchObject({ ok: true, signatures_verified: 3 });
  });

  it('keeps a payload byte for byte, so its hash still matches', () => {
    // Spacing JSON.stringify would not produce: only the exact text has this hash.
    const odd = '[ {"type": "PhaseStarted", "execution_id": "x-1", "at": 1, "phase_id": "a"} ]';
    const hash = recordHash('', 'x-1', new TextEncoder().encode(odd));
    const parsed = parseAuditFile(formatAuditFile('x-1', [{ seq: 1, payload: odd, prev: '', hash }]));
    expect(parsed.ok && parsed.records[0]?.payload).toBe(odd);
    expect(parsed.ok && verifyChain('x-1', parsed.records).ok).toBe(true);
  });

  it.each([
    ['an empty file', '', 'the file is empty: not an Orchestra audit export'],
    [
      'a file that is not an export',
      'hello\n',
      'line 1: not an Orchestra audit export (no JSON header line)',
    ],
    [
      'another format',
      '{"format":"other","version":1}\n',
      'line 1: not an Orchestra audit export (format "other", expected "orchestra-audit")',
    ],
    [
      'a newer version',
      text.replace('"version":1', '"version":2'),
      'line 1: format version 2 is not one this orchestra reads (1)',
    ],
    [
      'a file cut inside a line',
      text.slice(0, text.length - 40),
      'line 4: not JSON (the file is cut off inside it: truncated)',
    ],
    [
      'a file that lost its last lines',
      `${text.split('\n').slice(0, 3).join('\n')}\n`,
      'truncated: the header announces 3 records, the file holds 2',
    ],
    ['a corrupt line', text.replace('"seq":11', '"seq":"eleven"'), /^line 3: seq: /],
    [
      'an unknown field',
      text.replace('"seq":11', '"seq":11,"extra":1'),
      /^line 3: \(root\): Unrecognized key/,
    ],
    ['a header that lies about its records', text.replace('"records":3', '"records":2'), /lines were added/],
  ])('refuses %s, naming the line', (_what, input, problem) => {
    const parsed = parseAuditFile(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
