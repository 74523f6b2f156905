import {
  type Context,
  type Errors,
  part,
  type ScenarioResult,
  withNats,
  withRedis,
  withSystem,
} from '../harness.js';
import type { ProfileSummary } from '../profile.js';
import { atLeast, atMost } from '../report.js';
import { batchedThroughput } from '../scenarios/batched.js';
import { limitThroughput } from '../scenarios/limit.js';
import { orchestraMany } from '../scenarios/many.js';
import { peerMany } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { costRows, own, pair, row, statuses, withProfiles } from './common.js';

export async function runM(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.M;
  const { many, manyTasks } = ctx.sizes;
  const tasks = many * manyTasks;
  const limit = await part(ctx, errors, 'limit', () =>
    withNats(tasks, (url) => limitThroughput(url, many, manyTasks, budget)),
  );
  const batched = await part(ctx, errors, 'batched', () =>
    withNats(tasks, (url) => batchedThroughput(url, many, manyTasks, budget)),
  );
  const peer = await part(ctx, errors, 'peer', () =>
    withRedis(ctx.redis, tasks, (redis) => peerMany(redis, many, manyTasks, budget)),
  );
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'M', profiles, (system) => orchestraMany(system, many, manyTasks, budget)),
  );
  const rate = (x: { tasks_per_s: number } | null) => x?.tasks_per_s;
  const vsPeer = ratio(rate(orchestra), rate(peer));
  const rss = orchestra?.rss_mb;
  const latency = orchestra?.execution_latency_ms;
  return {
    data: {
      executions: many,
      tasks_each: manyTasks,
      limit,
      batched,
      peer,
      orchestra,
      ratios: {
        orchestra_vs_limit: ratio(rate(orchestra), rate(limit)),
        orchestra_vs_batched: ratio(rate(orchestra), rate(batched)),
        orchestra_vs_peer: vsPeer,
        batched_vs_limit: ratio(rate(batched), rate(limit)),
        peer_vs_limit: ratio(rate(peer), rate(limit)),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('M', `tasks/s (${many} x ${manyTasks})`, {
        limit: rate(limit),
        batched: rate(batched),
        peer: rate(peer),
        orchestra: rate(orchestra),
      }),
      own('M', 'execution latency p50 / p99 ms', pair(latency?.p50, latency?.p99)),
      ...costRows('M', 'task', { limit, batched, peer, orchestra }),
      own('M', 'orchestrator RSS peak MB', rss?.orchestrator?.peak_mb),
      own(
        'M',
        'RSS peak MB dispatcher / results / nats-server',
        rss && `${rss.dispatcher?.peak_mb} / ${rss.results?.peak_mb} / ${rss['nats-server']?.peak_mb}`,
      ),
      own('M', 'final statuses', orchestra && statuses(orchestra.statuses)),
    ],
    checks: [
      atLeast(
        'M',
        'tasks/s >= 1.0x BullMQ',
        'Orchestra tasks/s / BullMQ tasks/s, same run',
        vsPeer,
        1.0,
        'x',
      ),
      atMost('M', 'orchestrator RSS <= 250 MB', 'peak VmRSS', rss?.orchestrator?.peak_mb, 250, 'MB', 6),
      {
        ...atMost('M', '100,000 executions: RSS bounded', 'see npm run bench -- --sweep', null, null, ''),
        note: 'measured by --sweep',
      },
    ],
  };
}
