import type { Context, Scenario } from '../harness.js';
import type { RedisHandle } from '../infra.js';
import { widestFit } from '../plans.js';
import type { ProfileSummary } from '../profile.js';
import type { Row } from '../report.js';
import { ratio } from '../stats.js';

export type Cell = number | string | null | undefined;

/** A table row; the ratios are Orchestra's figure over the limit's and the peer's, when both are numbers. */
export function row(scenario: Scenario, metric: string, limit: Cell, peer: Cell, orchestra: Cell): Row {
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

export const pair = (a: Cell, b: Cell) =>
  a === undefined && b === undefined ? null : `${a ?? '-'} / ${b ?? '-'}`;

/** What a server with NATS's default max_payload (1 MB) would take of the requested width. */
export function defaultPayloadFit(requested: number) {
  const fit = widestFit(requested, 1024 * 1024);
  return {
    max_payload_bytes: 1024 * 1024,
    refused: fit.requested.refusedBy ?? null,
    widest: fit.width,
    widest_limited_by: fit.limitedBy ?? null,
  };
}

/** nats-server traffic per task: messages in and out, kB out, JetStream API requests. */
export function trafficRows(scenario: Scenario, limit: Traffic, orchestra: Traffic): Row[] {
  return [
    row(
      scenario,
      'nats msgs in / out per task',
      pair(limit?.msgs_in_per_task, limit?.msgs_out_per_task),
      'n/a',
      pair(orchestra?.msgs_in_per_task, orchestra?.msgs_out_per_task),
    ),
    row(scenario, 'nats kB out per task', limit?.kb_out_per_task, 'n/a', orchestra?.kb_out_per_task),
    row(
      scenario,
      'JetStream API requests per task',
      limit?.api_requests_per_task,
      'n/a',
      orchestra?.api_requests_per_task,
    ),
  ];
}
export type Traffic = Record<string, number> | null | undefined;

export const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');

export function peerRedis(ctx: Context): RedisHandle {
  if (!ctx.redis) throw new Error('no Redis: the peer cannot run');
  return ctx.redis;
}

export function withProfiles(ctx: Context, profiles: Record<string, ProfileSummary[]>) {
  return ctx.profileDir ? { profiles } : {};
}
