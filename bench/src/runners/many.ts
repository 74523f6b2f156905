import { type Context, type Errors, part, type ScenarioResult, withNats, withSystem } from '../harness.js';
import type { ProfileSummary } from '../profile.js';
import { atMost } from '../report.js';
import { limitThroughput } from '../scenarios/limit.js';
import { orchestraMany } from '../scenarios/orchestra.js';
import { peerMany } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { pair, peerRedis, row, statuses, trafficRows, withProfiles } from './common.js';

export async function runM(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.M;
  const { many, manyTasks } = ctx.sizes;
  const limit = await part(ctx, errors, 'limit', () =>
    withNats(many * manyTasks, (url) => limitThroughput(url, many, manyTasks, budget)),
  );
  const peer = await part(ctx, errors, 'peer', () => peerMany(peerRedis(ctx), many, manyTasks, budget));
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'M', profiles, (system) => orchestraMany(system, many, manyTasks, budget)),
  );
  const vsLimit = ratio(orchestra?.tasks_per_s, limit?.tasks_per_s);
  const vsPeer = ratio(orchestra?.tasks_per_s, peer?.tasks_per_s);
  const rss = orchestra?.rss_mb;
  const latency = orchestra?.execution_latency_ms;
  return {
    data: {
      executions: many,
      tasks_each: manyTasks,
      limit,
      peer,
      orchestra,
      ratios: {
        orchestra_vs_limit: vsLimit,
        orchestra_vs_peer: vsPeer,
        peer_vs_limit: ratio(peer?.tasks_per_s, limit?.tasks_per_s),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row(
        'M',
        `tasks/s (${many} x ${manyTasks})`,
        limit?.tasks_per_s,
        peer?.tasks_per_s,
        orchestra?.tasks_per_s,
      ),
      row('M', 'execution latency p50 / p99 ms', null, null, pair(latency?.p50, latency?.p99)),
      ...trafficRows('M', limit?.server, orchestra?.server),
      row('M', 'orchestrator RSS peak MB', null, null, rss?.orchestrator?.peak_mb),
      row(
        'M',
        'RSS peak MB dispatcher / results / nats-server',
        null,
        null,
        rss && `${rss.dispatcher?.peak_mb} / ${rss.results?.peak_mb} / ${rss['nats-server']?.peak_mb}`,
      ),
      row('M', 'final statuses', null, null, orchestra && statuses(orchestra.statuses)),
    ],
    checks: [atMost('M', 'orchestrator RSS <= 250 MB', 'peak VmRSS', rss?.orchestrator?.peak_mb, 250, 'MB')],
  };
}
