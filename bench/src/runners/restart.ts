import { type Context, type Errors, part, type ScenarioResult, withSystem } from '../harness.js';
import type { ProfileSummary } from '../profile.js';
import { atMost } from '../report.js';
import { orchestraRestart } from '../scenarios/restart.js';
import { own, pair, row, statuses, withProfiles } from './common.js';

export async function runS(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const { restart, restartSteps } = ctx.sizes;
  const s = await part(ctx, errors, 'orchestra', () =>
    withSystem(ctx, 'S', profiles, (system) =>
      orchestraRestart(system, restart, restartSteps, ctx.budgetMs.S),
    ),
  );
  return {
    data: {
      limit: 'n/a',
      peer: 'n/a: no orchestrator state to recover',
      orchestra: s,
      errors,
      ...withProfiles(ctx, profiles),
    },
    rows: [
      row('S', `recovery s (${s?.in_flight_at_kill ?? '?'} in flight)`, {
        limit: 'n/a',
        peer: 'n/a',
        orchestra: s?.all_progressed_seconds,
      }),
      own('S', 'boot / first progress s', pair(s?.boot_seconds, s?.first_progress_seconds)),
      own(
        'S',
        'progress after kill p50 / p99 ms',
        pair(s?.progress_after_kill_ms?.p50, s?.progress_after_kill_ms?.p99),
      ),
      own('S', 'all finished after kill s', s?.all_finished_seconds),
      own('S', 'final statuses', s && statuses(s.statuses)),
    ],
    checks: [
      atMost(
        'S',
        'recovery <= 5 s',
        'kill -9 -> every in-flight execution progressed',
        s?.all_progressed_seconds,
        5,
        's',
        6,
      ),
    ],
  };
}
