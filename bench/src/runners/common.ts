import type { Context, Scenario } from '../harness.js';
import type { Usage } from '../meter.js';
import { widestFit } from '../plans.js';
import type { ProfileSummary } from '../profile.js';
import { atMost, type Row, type TargetCheck } from '../report.js';
import { ratio } from '../stats.js';

export type Cell = number | string | null | undefined;

/** The figures of one row: the limit's, the batched loop's, the peer's and Orchestra's. */
export interface Cells {
  limit?: Cell;
  batched?: Cell;
  peer?: Cell;
  orchestra?: Cell;
}

/** A table row; the ratios are Orchestra's figure over each other system's, when both are numbers. */
export function row(scenario: Scenario, metric: string, cells: Cells): Row {
  const num = (x: Cell) => (typeof x === 'number' ? x : null);
  const orchestra = num(cells.orchestra);
  return {
    scenario,
    metric,
    limit: cells.limit ?? null,
    batched: cells.batched ?? null,
    peer: cells.peer ?? null,
    orchestra: cells.orchestra ?? null,
    vs_limit: ratio(orchestra, num(cells.limit)),
    vs_batched: ratio(orchestra, num(cells.batched)),
    vs_peer: ratio(orchestra, num(cells.peer)),
  };
}

/** An Orchestra-only row. */
export const own = (scenario: Scenario, metric: string, orchestra: Cell): Row =>
  row(scenario, metric, { orchestra });

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

type Measured = Partial<Usage> | null | undefined;
/** The usage of each system in a scenario (the peer's server is Redis, the others' nats-server). */
export interface Systems {
  limit: Measured;
  batched: Measured;
  peer: Measured;
  orchestra: Measured;
}

const SERVICES = ['orchestrator', 'dispatcher', 'results'] as const;

/**
 * Traffic at the server per task (per step in C) and CPU per task of each process: nats-server's
 * messages in / out for the NATS systems, Redis's commands for the peer; the CPU of the server,
 * of the clients (the benchmark process for the loops and the peer, Orchestra's three services)
 * and their sum.
 */
export function costRows(scenario: Scenario, per: string, s: Systems): Row[] {
  const traffic = (m: Measured) => m?.server && pair(m.server.msgs_in_per_task, m.server.msgs_out_per_task);
  const commands = s.peer?.server?.commands_per_task;
  const cpu = (m: Measured, name: string) => m?.cpu_ms_per_task?.[name];
  const services = (m: Measured) => {
    const parts = SERVICES.map((name) => cpu(m, name));
    return parts.some((x) => x === undefined) ? undefined : parts.reduce((a = 0, b = 0) => a + b, 0);
  };
  const server = (m: Measured) => cpu(m, 'nats-server') ?? cpu(m, 'redis-server');
  const clients = {
    limit: cpu(s.limit, 'bench'),
    batched: cpu(s.batched, 'bench'),
    peer: cpu(s.peer, 'bench'),
  };
  const sum = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round((a + b) * 1000) / 1000;
  const o = s.orchestra?.server;
  return [
    row(scenario, `server msgs in / out per ${per} (peer: Redis commands)`, {
      limit: traffic(s.limit),
      batched: traffic(s.batched),
      peer: commands === undefined ? undefined : `${commands} cmds`,
      orchestra: traffic(s.orchestra),
    }),
    row(scenario, `server kB in / out per ${per}`, {
      limit: s.limit?.server && pair(s.limit.server.kb_in_per_task, s.limit.server.kb_out_per_task),
      batched: s.batched?.server && pair(s.batched.server.kb_in_per_task, s.batched.server.kb_out_per_task),
      peer: s.peer?.server && pair(s.peer.server.kb_in_per_task, s.peer.server.kb_out_per_task),
      orchestra: o && pair(o.kb_in_per_task, o.kb_out_per_task),
    }),
    own(
      scenario,
      `msgs in / out per ${per}: orchestrator | dispatcher | results`,
      o &&
        SERVICES.map((name) => pair(o[`${name}_msgs_in_per_task`], o[`${name}_msgs_out_per_task`])).join(
          ' | ',
        ),
    ),
    own(scenario, `JetStream API requests per ${per}`, o?.api_requests_per_task),
    row(scenario, `server CPU ms per ${per} (nats-server; peer: redis-server)`, {
      limit: server(s.limit),
      batched: server(s.batched),
      peer: server(s.peer),
      orchestra: server(s.orchestra),
    }),
    row(scenario, `clients CPU ms per ${per} (loops, peer: bench process; Orchestra: 3 services)`, {
      ...clients,
      orchestra: services(s.orchestra),
    }),
    row(scenario, `total CPU ms per ${per}`, {
      limit: sum(server(s.limit), clients.limit),
      batched: sum(server(s.batched), clients.batched),
      peer: sum(server(s.peer), clients.peer),
      orchestra: sum(server(s.orchestra), services(s.orchestra)),
    }),
    own(
      scenario,
      `CPU ms per ${per}: orchestrator / dispatcher / results / nats-server`,
      s.orchestra?.cpu_ms_per_task &&
        [...SERVICES, 'nats-server'].map((name) => cpu(s.orchestra, name) ?? '-').join(' / '),
    ),
  ];
}

/** Issue 13: messages at the server per task (per step) at most the limit's + 2, in each direction. */
export function messageChecks(
  scenario: Scenario,
  per: string,
  limit: Measured,
  orchestra: Measured,
): TargetCheck[] {
  const bound = (x: number | undefined) => (x === undefined ? null : x + 2);
  return (['in', 'out'] as const).map((way) =>
    atMost(
      scenario,
      `msgs ${way} per ${per} <= limit + 2`,
      `nats-server msgs ${way} per ${per} (the benchmark's watching connection left out)`,
      orchestra?.server?.[`msgs_${way}_per_task`],
      bound(limit?.server?.[`msgs_${way}_per_task`]),
      'msgs',
    ),
  );
}

export const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');

export function withProfiles(ctx: Context, profiles: Record<string, ProfileSummary[]>) {
  return ctx.profileDir ? { profiles } : {};
}
