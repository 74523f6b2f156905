import {
  type Context,
  type Errors,
  part,
  type Scenario,
  type ScenarioResult,
  withNats,
  withSystem,
} from './harness.js';
import { MAX_PAYLOAD_BYTES, type RedisHandle } from './infra.js';
import { widestFit } from './plans.js';
import type { ProfileSummary } from './profile.js';
import { atLeast, atMost, type Row } from './report.js';
import { limitChain, limitThroughput } from './scenarios/limit.js';
import { orchestraChain, orchestraMany, orchestraWide } from './scenarios/orchestra.js';
import { peerChain, peerMany, peerWide } from './scenarios/peer.js';
import { replay } from './scenarios/replay.js';
import { orchestraRestart } from './scenarios/restart.js';
import { ratio } from './stats.js';

type Cell = number | string | null | undefined;

/** A table row; the ratios are Orchestra's figure over the limit's and the peer's, when both are numbers. */
function row(scenario: Scenario, metric: string, limit: Cell, peer: Cell, orchestra: Cell): Row {
  const num = (x: Cell) => (typeof x === 'number' ? x : null);
  return {
    scenario,
    metric,
    limit: limit ?? null,
    peer: peer ?? null,
    orchestra: orchestra ?? null,
    vs_limit: ratio(num(orchestra), num(limit)),
    vs_peer: ratio(num(orchestra), num(peer)),
  };
}

const pair = (a: Cell, b: Cell) => (a === undefined && b === undefined ? null : `${a ?? '-'} / ${b ?? '-'}`);

function peerRedis(ctx: Context): RedisHandle {
  if (!ctx.redis) throw new Error('no Redis: the peer cannot run');
  return ctx.redis;
}

function withProfiles(ctx: Context, profiles: Record<string, ProfileSummary[]>) {
  return ctx.profileDir ? { profiles } : {};
}

export async function runW(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.W;
  const fit = widestFit(ctx.sizes.wide, MAX_PAYLOAD_BYTES);
  const width = fit.width;
  if (width !== ctx.sizes.wide)
    ctx.log(`  ${ctx.sizes.wide} tasks refused (${fit.requested.refusedBy}); ${width}`);
  const limit = await part(ctx, errors, 'limit', () =>
    withNats((url) => limitThroughput(url, 1, width, budget)),
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
      max_payload_bytes: MAX_PAYLOAD_BYTES,
      command_bytes: fit.requested.commandBytes,
      started_event_bytes: fit.requested.startedEventBytes,
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
      row(
        'W',
        'final results',
        'n/a',
        'n/a',
        orchestra && (orchestra.timed_out ? 'TIMED OUT (rate: upper bound)' : orchestra.status),
      ),
    ],
    checks: [
      atLeast('W', 'tasks/s >= 1.0x BullMQ', 'Orchestra tasks/s / BullMQ tasks/s', vsPeer, 1.0, 'x'),
      atLeast('W', 'tasks/s >= 0.6x limit', 'Orchestra tasks/s / limit tasks/s', vsLimit, 0.6, 'x'),
    ],
  };
}

export async function runC(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.C;
  const steps = ctx.sizes.chain;
  const limit = await part(ctx, errors, 'limit', () => withNats((url) => limitChain(url, steps, budget)));
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
      row('C', 'step p50: to bus / worker / decide ms', null, null, breakdownCell(breakdown)),
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
  return `${b.dispatched_to_command?.p50} / ${b.command_to_outcome?.p50} / ${b.outcome_to_succeeded?.p50}`;
}

export async function runM(ctx: Context): Promise<ScenarioResult> {
  const errors: Errors = {};
  const profiles: Record<string, ProfileSummary[]> = {};
  const budget = ctx.budgetMs.M;
  const { many, manyTasks } = ctx.sizes;
  const limit = await part(ctx, errors, 'limit', () =>
    withNats((url) => limitThroughput(url, many, manyTasks, budget)),
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
      row('M', 'orchestrator RSS peak MB', null, null, rss?.orchestrator?.peak_mb),
      row(
        'M',
        'RSS peak MB dispatcher / results / nats-server',
        null,
        null,
        rss && `${rss.dispatcher?.peak_mb} / ${rss.results?.peak_mb} / ${rss['nats-server']?.peak_mb}`,
      ),
    ],
    checks: [atMost('M', 'orchestrator RSS <= 250 MB', 'peak VmRSS', rss?.orchestrator?.peak_mb, 250, 'MB')],
  };
}

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
        'read + decode + validate + fold',
        r?.replay_events_per_s,
        200_000,
        'events/s',
      ),
      atLeast('R', 'fold >= 200,000 events/s', 'fold alone', r?.fold_events_per_s, 200_000, 'events/s'),
    ],
  };
}

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
      row(
        'S',
        `recovery s (${s?.in_flight_at_kill ?? '?'} in flight)`,
        'n/a',
        'n/a',
        s?.all_progressed_seconds,
      ),
      row('S', 'boot / first progress s', null, null, pair(s?.boot_seconds, s?.first_progress_seconds)),
      row(
        'S',
        'progress after kill p50 / p99 ms',
        null,
        null,
        pair(s?.progress_after_kill_ms?.p50, s?.progress_after_kill_ms?.p99),
      ),
      row('S', 'all finished after kill s', null, null, s?.all_finished_seconds),
    ],
    checks: [
      atMost(
        'S',
        'recovery <= 5 s',
        'kill -9 -> every in-flight execution progressed',
        s?.all_progressed_seconds,
        5,
        's',
      ),
    ],
  };
}

export const RUNNERS: Record<Scenario, (ctx: Context) => Promise<ScenarioResult>> = {
  W: runW,
  C: runC,
  M: runM,
  R: runR,
  S: runS,
};
