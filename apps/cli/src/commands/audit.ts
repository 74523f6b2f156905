import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { type ChainVerdict, type RecordVerifier, verifierFromKey, verifyChain } from '@orchestra/bus';
import { noLog } from '@orchestra/client';
import { NotFoundError } from '@orchestra/contracts';
import { Option } from 'commander';
import { formatAuditFile, parseAuditFile } from '../audit-file.js';
import { withClient } from '../connect.js';
import { type Cli, type CommandRegistration, ExitCode } from '../context.js';
import { localVerifyKeys } from '../signing-key.js';

/** `verify` and `export`: the tamper-evident log (docs/audit.md). */

interface VerifyOptions {
  file?: string;
  key?: string[];
  chainOnly?: boolean;
  json?: boolean;
}

export const registerVerify: CommandRegistration = (program, cli) => {
  program
    .command('verify')
    .description(
      "check an execution's tamper-evident log: every record's hash and link, and its signature by a trusted key",
    )
    .argument('[execution_id]', 'the execution, read from NATS (or use --file)')
    .option('--file <audit.jsonl>', 'check a file written by `orchestra export`, offline (no NATS)')
    .option(
      '--key <public key>',
      'a public key trusted to sign the log (nkey U…, PEM or ed25519:…, or a file holding one; repeat for several); default ORCHESTRA_VERIFY_KEY, else .orchestra/signing-key.pub',
      (value: string, all: string[] = []) => [...all, value],
    )
    .addOption(new Option('--chain-only', 'check hashes and links only, not the signatures').conflicts('key'))
    .option('--json', 'print the verdict as JSON')
    .action(async (executionId: string | undefined, options: VerifyOptions) => {
      if ((executionId === undefined) === (options.file === undefined)) {
        cli.err('name an execution id, or --file <audit.jsonl> to check an export offline (not both)');
        cli.exitCode = ExitCode.usage;
        return;
      }
      const trusted = trustedVerifiers(cli, options);
      if (!trusted) return;
      const verdict = options.file
        ? await verifyFile(cli, options.file, trusted)
        : await withClient(cli, async (client) => {
            try {
              return await client.verify(executionId as string, trusted);
            } catch (error) {
              if (error instanceof NotFoundError) return fail(cli, error.message);
              throw error;
            }
          });
      if (!verdict) return;
      if (options.json) cli.out(JSON.stringify(verdict, null, 2));
      else printVerdict(cli, verdict, trusted);
      cli.exitCode = verdict.ok ? ExitCode.ok : ExitCode.failed;
    });
};

export const registerExport: CommandRegistration = (program, cli) => {
  program
    .command('export')
    .description(
      "write an execution's stored records with their hashes and signatures (JSON Lines, docs/audit.md); verify it offline with `orchestra verify --file`",
    )
    .argument('<execution_id>', 'the execution')
    .action((executionId: string) =>
      withClient(cli, async (client) => {
        const records = await client.auditRecords(executionId);
        if (records.length === 0) return void fail(cli, noLog(executionId));
        cli.io.stdout.write(formatAuditFile(executionId, records));
      }),
    );
};

/**
 * `orchestra keygen`: a new key pair for the event log, as the two variables that use it (an
 * env file for compose or for a Kubernetes secretGenerator, docs/audit.md "Key management").
 */
export const registerKeygen: CommandRegistration = (program, cli) => {
  program
    .command('keygen')
    .description(
      'print a new Ed25519 key pair for the event log: ORCHESTRA_SIGNING_KEY (secret, for the orchestrators) and ORCHESTRA_VERIFY_KEY (public)',
    )
    .action(() => {
      const pair = createUser();
      cli.out(`ORCHESTRA_SIGNING_KEY=${new TextDecoder().decode(pair.getSeed())}`);
      cli.out(`ORCHESTRA_VERIFY_KEY=${pair.getPublicKey()}`);
    });
};

/**
 * The keys to check signatures with: `--key`, else ORCHESTRA_VERIFY_KEY, else the public key
 * `orchestra up` made in this directory. None (and no --chain-only), or one that is not a key:
 * a clear error, exit code 1.
 */
function trustedVerifiers(cli: Cli, options: VerifyOptions): RecordVerifier[] | undefined {
  if (options.chainOnly) return [];
  const keys = options.key ?? localVerifyKeys(cli.io.cwd, cli.io.env);
  const source = options.key ? '--key' : 'trusted key';
  if (keys.length === 0)
    return fail(
      cli,
      'no public key to check the signatures with: pass --key <public key> or set ORCHESTRA_VERIFY_KEY (--chain-only checks the hashes alone)',
    );
  const verifiers: RecordVerifier[] = [];
  for (const key of keys) {
    try {
      verifiers.push(verifierFromKey(keyText(cli, key)));
    } catch (error) {
      return fail(cli, `${source} ${abbreviate(key)}: ${(error as Error).message}`);
    }
  }
  return verifiers;
}

async function verifyFile(
  cli: Cli,
  file: string,
  trusted: RecordVerifier[],
): Promise<ChainVerdict | undefined> {
  let text: string;
  try {
    text = await readFile(resolve(cli.io.cwd, file), 'utf8');
  } catch (error) {
    return fail(
      cli,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const parsed = parseAuditFile(text);
  if (!parsed.ok) return fail(cli, `${file}: ${parsed.problem}`);
  return verifyChain(parsed.header.execution_id, parsed.records, trusted);
}

function printVerdict(cli: Cli, verdict: ChainVerdict, trusted: readonly RecordVerifier[]): void {
  const id = verdict.execution_id;
  const problem = verdict.first_problem;
  if (problem) {
    cli.err(
      `✗ ${id}: record ${problem.index + 1} of ${verdict.records} (stream sequence ${problem.seq}): ${problem.problem}`,
    );
    return;
  }
  const signatures = verdict.signatures_checked
    ? `every record signed by a trusted key (${trusted.map((verifier) => verifier.keyId).join(', ')})`
    : 'signatures NOT checked (--chain-only)';
  cli.out(`✓ ${id}: ${verdict.records} records, chain intact, ${signatures}`);
  cli.out(
    verdict.ends_with_finish
      ? '  the log ends with the execution’s end'
      : '  the log does not end with the execution’s end: it is still running, or its last records were deleted (see docs/audit.md)',
  );
}

/** A key given as the path of a file that holds it (a PEM file, signing-key.pub) is read from it. */
function keyText(cli: Cli, key: string): string {
  const path = resolve(cli.io.cwd, key);
  return !key.includes('\n') && existsSync(path) && statSync(path).isFile()
    ? readFileSync(path, 'utf8')
    : key;
}

function abbreviate(key: string): string {
  const line = key.trim().split('\n')[0] ?? '';
  return line.length > 24 ? `${line.slice(0, 24)}…` : line;
}

function fail(cli: Cli, message: string): undefined {
  cli.err(message);
  cli.exitCode = ExitCode.failed;
  return undefined;
}
