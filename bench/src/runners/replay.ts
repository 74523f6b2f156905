import { type Context, type Errors, part, type ScenarioResult } from '../harness.js';
import { atLeast } from '../report.js';
import { replay } from '../scenarios/replay.js';
import { ratio } from '../stats.js';
import { pair, row } from './common.js';

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
      row(
        'R',
        `replay events/s (${r?.events ?? ctx.sizes.replay} events)`,
        r?.read_events_per_s,
        'n/a',
        r?.replay_events_per_s,
      ),
      row(
        'R',
        'read, decode, validate, fold one after the other events/s',
        r?.read_events_per_s,
        'n/a',
        r?.phases_sum_events_per_s,
      ),
      row('R', 'fold only events/s', r?.read_events_per_s, 'n/a', r?.fold_events_per_s),
      row(
        'R',
        'decode / zod validate events/s',
        null,
        'n/a',
        pair(r?.decode_events_per_s, r?.validate_events_per_s),
      ),
      row(
        'R',
        'readEvents one execution at a time events/s',
        null,
        'n/a',
        r?.read_events_per_execution.events_per_s,
      ),
    ],
    checks: [
      atLeast(
        'R',
        'replay >= 200,000 events/s',
        'read + decode + validate + fold, streaming',
        r?.replay_events_per_s,
        200_000,
        'events/s',
      ),
      atLeast('R', 'fold >= 200,000 events/s', 'fold alone', r?.fold_events_per_s, 200_000, 'events/s'),
    ],
  };
}
