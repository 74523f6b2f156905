import type { DeadLetterSource } from '@orchestra/contracts';
import { withClient } from '../connect.js';
import type { CommandRegistration } from '../context.js';

const SOURCES: readonly DeadLetterSource[] = ['commands', 'tasks', 'outcomes', 'timers', 'events'];

export const registerDeadLetters: CommandRegistration = (program, cli) => {
  program
    .command('dead-letters')
    .description('list messages that were refused or exhausted their deliveries, with the reason')
    .option('--limit <n>', 'how many, most recent last', (value) => Number.parseInt(value, 10), 50)
    .option('--source <stream>', `only one of ${SOURCES.join(', ')}`)
    .option('--json', 'print the records as JSON')
    .action((options: { limit: number; source?: string; json?: boolean }) =>
      withClient(cli, async (client) => {
        if (options.source && !SOURCES.includes(options.source as DeadLetterSource)) {
          cli.err(`--source must be one of ${SOURCES.join(', ')}`);
          cli.exitCode = 2;
          return;
        }
        const records = await client.deadLetters({
          limit: options.limit,
          ...(options.source ? { source: options.source as DeadLetterSource } : {}),
        });
        if (options.json) return cli.out(JSON.stringify(records, null, 2));
        if (records.length === 0) return cli.out('no dead letters');
        for (const record of records) {
          const when = new Date(record.at).toISOString();
          cli.out(`${when}  ${record.source}  ${record.subject}  #${record.stream_seq}  ${record.reason}`);
          for (const issue of record.issues) cli.out(`    ${issue.path}: ${issue.message}`);
        }
      }),
    );
};
