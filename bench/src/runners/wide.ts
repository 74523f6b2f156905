import { type Context, type Errors, part, type ScenarioResult, withNats, withSystem } from '../harness.js';
import { MAX_PAYLOAD_BYTES } from '../infra.js';
import { widestFit } from '../plans.js';
import type { ProfileSummary } from '../profile.js';
import { atLeast } from '../report.js';
import { limitThroughput } from '../scenarios/limit.js';
import { orchestraWide } from '../scenarios/orchestra.js';
import { peerWide } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { defaultPayloadFit, peerRedis, row, trafficRows, withProfiles } from './common.js';

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
  const peer = await part(ctx, errors, 'peer', () => peerWide(peerRedis(ctx), width, budget));
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'W', profiles, (system) => orchestraWide(system, width, budget)),
  );
  if (orchestra?.rejected) errors.orchestra = `rejected: ${orchestra.rejected}`;
  const vsLimit = ratio(orchestra?.tasks_per_s, limit?.tasks_per_s);
  const vsPeer = ratio(orchestra?.tasks_per_s, peer?.tasks_per_s);
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
      peer,
      orchestra,
      ratios: {
        orchestra_vs_limit: vsLimit,
        orchestra_vs_peer: vsPeer,
        orchestrator_only_vs_limit: ratio(orchestra?.orchestrator_tasks_per_s, limit?.tasks_per_s),
        orchestrator_only_vs_peer: ratio(orchestra?.orchestrator_tasks_per_s, peer?.tasks_per_s),
        peer_vs_limit: ratio(peer?.tasks_per_s, limit?.tasks_per_s),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('W', `tasks/s (${width} tasks)`, limit?.tasks_per_s, peer?.tasks_per_s, orchestra?.tasks_per_s),
      row('W', 'seconds', limit?.seconds, peer?.seconds, orchestra?.seconds),
      row('W', 'tasks/s to ExecutionFinished', null, null, orchestra?.orchestrator_tasks_per_s),
      ...trafficRows('W', limit?.server, orchestra?.server),
      row(
        'W',
        'final results',
        'n/a',
        'n/a',
        orchestra && (orchestra.timed_out ? 'TIMED OUT (rate: upper bound)' : orchestra.status),
      ),
      row(
        'W',
        'tasks timed out (deadline before decision)',
        null,
        null,
        orchestra?.event_counts?.TaskTimedOut ?? 0,
      ),
      row('W', 'orchestrator RSS peak MB', null, null, orchestra?.rss_mb.orchestrator?.peak_mb),
    ],
    checks: [
      atLeast('W', 'tasks/s >= 1.0x BullMQ', 'Orchestra tasks/s / BullMQ tasks/s', vsPeer, 1.0, 'x'),
      atLeast('W', 'tasks/s >= 0.6x limit', 'Orchestra tasks/s / limit tasks/s', vsLimit, 0.6, 'x'),
    ],
  };
}
