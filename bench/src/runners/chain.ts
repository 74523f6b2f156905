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
import { atMost } from '../report.js';
import { batchedChain } from '../scenarios/batched.js';
import { limitChain } from '../scenarios/limit.js';
import { orchestraChain } from '../scenarios/orchestra.js';
import { peerChain } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { costRows, messageChecks, own, pair, row, withProfiles } from './common.js';

export async function runC(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.C;
  const steps = ctx.sizes.chain;
  const limit = await part(ctx, errors, 'limit', () =>
    withNats(steps, (url) => limitChain(url, steps, budget)),
  );
  const batched = await part(ctx, errors, 'batched', () =>
    withNats(steps, (url) => batchedChain(url, steps, budget)),
  );
  const peer = await part(ctx, errors, 'peer', () =>
    withRedis(ctx.redis, steps, (redis) => peerChain(redis, steps, budget)),
  );
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'C', profiles, (system) => orchestraChain(system, steps, budget)),
  );
  const o = orchestra?.step_seen_ms;
  const l = limit?.step_ms;
  const b = batched?.step_ms;
  const p = peer?.step_overhead_ms;
  const perStep = (x: { seconds: number } | null) => (x ? (x.seconds * 1000) / steps : null);
  const literal = orchestra?.succeeded_to_next_dispatched_ms;
  const breakdown = orchestra?.breakdown_ms;
  const overhead = orchestra?.step_overhead_ms;
  return {
    data: {
      steps,
      limit,
      batched,
      peer,
      orchestra,
      ratios: {
        p50_vs_limit: ratio(o?.p50, l?.p50),
        p99_vs_limit: ratio(o?.p99, l?.p99),
        p50_vs_batched: ratio(o?.p50, b?.p50),
        p50_vs_peer: ratio(o?.p50, p?.p50),
        p99_vs_peer: ratio(o?.p99, p?.p99),
        per_step_vs_limit: ratio(orchestra?.per_step_ms, perStep(limit)),
        per_step_vs_peer: ratio(orchestra?.per_step_ms, peer?.per_step_ms),
        batched_vs_limit_p50: ratio(b?.p50, l?.p50),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('C', `step p50 ms (${steps} steps; Orchestra: records on the bus)`, {
        limit: l?.p50,
        batched: b?.p50,
        peer: p?.p50,
        orchestra: o?.p50,
      }),
      row('C', 'step p99 ms', { limit: l?.p99, batched: b?.p99, peer: p?.p99, orchestra: o?.p99 }),
      row('C', 'end to end per step ms (wall / steps)', {
        limit: perStep(limit),
        batched: perStep(batched),
        peer: peer?.per_step_ms,
        orchestra: orchestra?.per_step_ms,
      }),
      own(
        'C',
        'step overhead from event `at` p50 / p99 ms (1 ms resolution)',
        pair(overhead?.p50, overhead?.p99),
      ),
      own('C', 'TaskSucceeded(n) -> TaskDispatched(n+1) p50 / p99 ms', pair(literal?.p50, literal?.p99)),
      own('C', 'step p50 ms: append / outbox / worker / decide', breakdownCell(breakdown)),
      ...costRows('C', 'step', { limit, batched, peer, orchestra }),
    ],
    checks: [
      atMost(
        'C',
        'step p50 <= 1.5 ms',
        'TaskSucceeded(n) -> TaskSucceeded(n+1), records seen on the bus',
        o?.p50,
        1.5,
        'ms',
      ),
      atMost('C', 'step p99 <= 5 ms', 'same, p99', o?.p99, 5, 'ms'),
      atMost(
        'C',
        'step p50 <= 2x the limit step',
        'same p50 / the limit step p50, same run',
        ratio(o?.p50, l?.p50),
        2,
        'x',
      ),
      ...messageChecks('C', 'step', limit, orchestra),
    ],
  };
}

function breakdownCell(
  b: Awaited<ReturnType<typeof orchestraChain>>['breakdown_ms'] | undefined,
): string | null {
  if (!b) return null;
  const parts = [b.decided_to_appended, b.appended_to_command, b.command_to_outcome, b.outcome_to_succeeded];
  return parts.map((d) => d?.p50 ?? '-').join(' / ');
}
