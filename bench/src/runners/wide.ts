import {
  type Context,
  type Errors,
  part,
  type ScenarioResult,
  withNats,
  withRedis,
  withSystem,
} from '../harness.js';
import { MAX_PAYLOAD_BYTES } from '../infra.js';
import { widestFit } from '../plans.js';
import type { ProfileSummary } from '../profile.js';
import { atLeast } from '../report.js';
import { batchedThroughput } from '../scenarios/batched.js';
import { limitThroughput } from '../scenarios/limit.js';
import { orchestraWide } from '../scenarios/orchestra.js';
import { peerWide } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { costRows, defaultPayloadFit, messageChecks, own, row, withProfiles } from './common.js';

export async function runW(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.W;
  const fit = widestFit(ctx.sizes.wide, MAX_PAYLOAD_BYTES);
  const width = fit.width;
  if (width !== ctx.sizes.wide)
    ctx.log(`  ${ctx.sizes.wide} tasks refused (${fit.requested.refusedBy}); ${width}`);
  const limit = await part(ctx, errors, 'limit', () =>
    withNats(width, (url) => limitThroughput(url, 1, width, budget)),
  );
  const batched = await part(ctx, errors, 'batched', () =>
    withNats(width, (url) => batchedThroughput(url, 1, width, budget)),
  );
  const peer = await part(ctx, errors, 'peer', () =>
    withRedis(ctx.redis, width, (redis) => peerWide(redis, width, budget)),
  );
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'W', profiles, (system) => orchestraWide(system, width, budget)),
  );
  if (orchestra?.rejected) errors.orchestra = `rejected: ${orchestra.rejected}`;
  const rate = (x: { tasks_per_s: number } | null) => x?.tasks_per_s;
  const vsPeer = ratio(rate(orchestra), rate(peer));
  return {
    data: {
      requested_width: ctx.sizes.wide,
      width,
      refused: fit.requested.ok ? null : fit.requested.refusedBy,
      widest_limited_by: fit.limitedBy ?? null,
      max_payload_bytes: MAX_PAYLOAD_BYTES,
      command_bytes: fit.requested.commandBytes,
      started_event_bytes: fit.requested.startedEventBytes,
      at_default_max_payload: defaultPayloadFit(ctx.sizes.wide),
      limit,
      batched,
      peer,
      orchestra,
      ratios: {
        orchestra_vs_limit: ratio(rate(orchestra), rate(limit)),
        orchestra_vs_batched: ratio(rate(orchestra), rate(batched)),
        orchestra_vs_peer: vsPeer,
        orchestrator_only_vs_peer: ratio(orchestra?.orchestrator_tasks_per_s, rate(peer)),
        batched_vs_limit: ratio(rate(batched), rate(limit)),
        peer_vs_limit: ratio(rate(peer), rate(limit)),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('W', `tasks/s (${width} tasks)`, {
        limit: rate(limit),
        batched: rate(batched),
        peer: rate(peer),
        orchestra: rate(orchestra),
      }),
      row('W', 'seconds', {
        limit: limit?.seconds,
        batched: batched?.seconds,
        peer: peer?.seconds,
        orchestra: orchestra?.seconds,
      }),
      own('W', 'tasks/s to ExecutionFinished', orchestra?.orchestrator_tasks_per_s),
      ...costRows('W', 'task', { limit, batched, peer, orchestra }),
      row('W', 'final results', {
        limit: 'n/a',
        peer: 'n/a',
        orchestra: orchestra && (orchestra.timed_out ? 'TIMED OUT (rate: upper bound)' : orchestra.status),
      }),
      own('W', 'tasks timed out (deadline before decision)', orchestra?.event_counts?.TaskTimedOut ?? 0),
      own('W', 'orchestrator RSS peak MB', orchestra?.rss_mb.orchestrator?.peak_mb),
    ],
    checks: [
      atLeast(
        'W',
        'tasks/s >= 1.0x BullMQ',
        'Orchestra tasks/s / BullMQ tasks/s, same run',
        vsPeer,
        1.0,
        'x',
      ),
      ...messageChecks('W', 'task', limit, orchestra),
    ],
  };
}
