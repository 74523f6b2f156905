import { type Context, type Errors, part, type ScenarioResult } from '../harness.js';
import { atLeast } from '../report.js';
import { replay } from '../scenarios/replay.js';
import { ratio } from '../stats.js';
import { own, pair, row } from './common.js';

export async function runR(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const r = await part(ctx, errors, 'orchestra', () =>
    replay(ctx.sizes.replay, ctx.sizes.replaySample, ctx.budgetMs.R),
  );
  return {
    data: {
      events: ctx.sizes.replay,
      limit: r ? { read_events_per_s: r.read_events_per_s } : null,
      peer: 'n/a: BullMQ keeps no event log to replay',
      orchestra: r,
      ratios: {
        replay_vs_limit: ratio(r?.replay_events_per_s, r?.read_events_per_s),
        phases_sum_vs_limit: ratio(r?.phases_sum_events_per_s, r?.read_events_per_s),
        fold_vs_limit: ratio(r?.fold_events_per_s, r?.read_events_per_s),
      },
      errors,
    },
    rows: [
      row('R', `replay events/s (${r?.events ?? ctx.sizes.replay} events; limit: read only)`, {
        limit: r?.read_events_per_s,
        peer: 'n/a',
        orchestra: r?.replay_events_per_s,
      }),
      row('R', 'read, decode, validate, fold one after the other events/s', {
        limit: r?.read_events_per_s,
        peer: 'n/a',
        orchestra: r?.phases_sum_events_per_s,
      }),
      row('R', 'fold only events/s', {
        limit: r?.read_events_per_s,
        peer: 'n/a',
        orchestra: r?.fold_events_per_s,
      }),
      own('R', 'decode / zod validate events/s', pair(r?.decode_events_per_s, r?.validate_events_per_s)),
      own('R', 'readEvents one execution at a time events/s', r?.read_events_per_execution.events_per_s),
    ],
    checks: [
      atLeast(
        'R',
        'streaming replay >= 300,000 events/s',
        'read + decode + validate + fold, streaming',
        r?.replay_events_per_s,
        300_000,
        'events/s',
      ),
    ],
  };
}
