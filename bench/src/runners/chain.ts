import { type Context, type Errors, part, type ScenarioResult, withNats, withSystem } from '../harness.js';
import type { ProfileSummary } from '../profile.js';
import { atMost } from '../report.js';
import { limitChain } from '../scenarios/limit.js';
import { orchestraChain } from '../scenarios/orchestra.js';
import { peerChain } from '../scenarios/peer.js';
import { ratio } from '../stats.js';
import { pair, peerRedis, row, trafficRows, withProfiles } from './common.js';

export async function runC(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.C;
  const steps = ctx.sizes.chain;
  const limit = await part(ctx, errors, 'limit', () =>
    withNats(steps, (url) => limitChain(url, steps, budget)),
  );
  const peer = await part(ctx, errors, 'peer', () => peerChain(peerRedis(ctx), steps, budget));
  const orchestra = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'C', profiles, (system) => orchestraChain(system, steps, budget)),
  );
  const o = orchestra?.step_overhead_ms;
  const l = limit?.step_ms;
  const p = peer?.step_overhead_ms;
  const limitPerStep = limit ? (limit.seconds * 1000) / steps : null;
  const literal = orchestra?.succeeded_to_next_dispatched_ms;
  const breakdown = orchestra?.breakdown_ms;
  return {
    data: {
      steps,
      limit,
      peer,
      orchestra,
      ratios: {
        p50_vs_limit: ratio(o?.p50, l?.p50),
        p99_vs_limit: ratio(o?.p99, l?.p99),
        p50_vs_peer: ratio(o?.p50, p?.p50),
        p99_vs_peer: ratio(o?.p99, p?.p99),
        per_step_vs_limit: ratio(orchestra?.per_step_ms, limitPerStep),
        per_step_vs_peer: ratio(orchestra?.per_step_ms, peer?.per_step_ms),
      },
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('C', `step overhead p50 ms (${steps} steps)`, l?.p50, p?.p50, o?.p50),
      row('C', 'step overhead p99 ms', l?.p99, p?.p99, o?.p99),
      row('C', 'end to end per step ms', limitPerStep, peer?.per_step_ms, orchestra?.per_step_ms),
      row(
        'C',
        'TaskSucceeded(n) -> TaskDispatched(n+1) p50 / p99 ms',
        null,
        null,
        pair(literal?.p50, literal?.p99),
      ),
      row('C', 'step p50 ms: append / outbox / worker / decide', null, null, breakdownCell(breakdown)),
      ...trafficRows('C', limit?.server, orchestra?.server),
    ],
    checks: [
      atMost(
        'C',
        'step overhead p50 <= 2 ms',
        'TaskSucceeded(n) -> TaskSucceeded(n+1) - duration_ms',
        o?.p50,
        2,
        'ms',
      ),
      atMost('C', 'step overhead p99 <= 10 ms', 'same, p99', o?.p99, 10, 'ms'),
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
