import type { KV, KvWatchEntry } from '@nats-io/kv';
import { type BusLogger, decodeText, errorFields } from '@orchestra/bus';
import { formatPath } from '@orchestra/contracts';
import type { ExecutionIndex } from './execution-index.js';
import { IndexedResults, summarize } from './summary.js';

export interface IndexFeed {
  /** Resolves once every value stored when the watch opened is in the index. */
  ready: Promise<void>;
  stop(): void;
}

const REOPEN_DELAY_MS = 500;

/**
 * Keeps the index equal to the results bucket: a watch (an ordered consumer on the bucket's
 * stream) delivers the last value of every key, then every change. A watch that breaks (a
 * server restart) is reopened from the revision after the last one applied, so no change is
 * missed and none is applied twice. A value that is not valid execution_results is logged and
 * skipped; it never stops the feed.
 */
export function startIndexFeed(
  openBucket: () => Promise<KV>,
  index: ExecutionIndex,
  logger: BusLogger,
  /** Reads a value stored through the object store (a large execution, see @orchestra/bus claim.ts). */
  resolve: (data: Uint8Array) => Promise<Uint8Array> = async (data) => data,
): IndexFeed {
  let stopped = false;
  let stopWatch: (() => void) | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = () => {
      index.loaded();
      resolve();
    };
  });

  let failures = 0;
  const run = async () => {
    while (!stopped) {
      try {
        // Opened inside the loop: a console may start before any service has created the bucket.
        const kv = await openBucket();
        if (index.revision === 0 && (await kv.status()).values === 0) markReady();
        const watcher = await kv.watch(index.revision > 0 ? { resumeFromRevision: index.revision + 1 } : {});
        stopWatch = () => watcher.stop();
        if (stopped) watcher.stop();
        for await (const entry of watcher) {
          failures = 0;
          await apply(index, entry, logger, resolve);
          if (entry.isUpdate) markReady();
        }
      } catch (error) {
        // Said once, then every 20th time: a bucket not created yet fails every half second.
        if (!stopped && failures++ % 20 === 0) {
          logger.warn(errorFields(error), 'console: cannot watch the results bucket; trying again');
        }
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, REOPEN_DELAY_MS));
    }
  };
  void run();
  return {
    ready,
    stop() {
      stopped = true;
      stopWatch?.();
    },
  };
}

async function apply(
  index: ExecutionIndex,
  entry: KvWatchEntry,
  logger: BusLogger,
  resolve: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<void> {
  if (entry.operation !== 'PUT') {
    index.remove(entry.key, entry.revision);
    return;
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeText(await resolve(entry.value)));
  } catch (error) {
    logger.warn({ key: entry.key, ...errorFields(error) }, 'console: results value is not JSON; skipped');
    return;
  }
  const parsed = IndexedResults.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    logger.warn(
      { key: entry.key, path: issue ? formatPath(issue.path) : '', reason: issue?.message },
      'console: results value is not valid execution_results; skipped',
    );
    return;
  }
  index.put(summarize(parsed.data, entry.revision), entry.created.getTime());
}
