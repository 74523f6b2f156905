import { round } from './stats.js';

/** Messages and bytes a server received from (in) and sent to (out) one client connection. */
export interface ConnectionCounters {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}

/** nats-server's counters (/varz) and those of each open connection, summed by name (/connz). */
export interface ServerStats extends ConnectionCounters {
  api_requests: number;
  connections: Record<string, ConnectionCounters>;
}

const ZERO: ConnectionCounters = { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
const short = (name: string) => name.replace(/^orchestra-/, '');

/**
 * Traffic between two readings, in all and per task. The connections named in `excluded` (the
 * benchmark watching the system) are left out of the totals. Each connection open at the end
 * (a connection opened in between counts from 0) is also given on its own: `<name>_msgs_in`...
 */
export function serverDelta(
  before: ServerStats,
  after: ServerStats,
  tasks: number,
  excluded: readonly string[] = [],
): Record<string, number> {
  const per = (x: number) => round(x / Math.max(1, tasks), 2);
  const diff = (a: ConnectionCounters, b: ConnectionCounters) => ({
    in_msgs: a.in_msgs - b.in_msgs,
    out_msgs: a.out_msgs - b.out_msgs,
    in_bytes: a.in_bytes - b.in_bytes,
    out_bytes: a.out_bytes - b.out_bytes,
  });
  const total = diff(after, before);
  const out: Record<string, number> = {};
  for (const [name, counters] of Object.entries(after.connections)) {
    const d = diff(counters, before.connections[name] ?? ZERO);
    if (excluded.includes(name))
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] -= d[key];
    out[`${short(name)}_msgs_in_per_task`] = per(d.in_msgs);
    out[`${short(name)}_msgs_out_per_task`] = per(d.out_msgs);
  }
  const api = after.api_requests - before.api_requests;
  return {
    in_msgs: total.in_msgs,
    out_msgs: total.out_msgs,
    in_mb: round(total.in_bytes / 1024 ** 2, 1),
    out_mb: round(total.out_bytes / 1024 ** 2, 1),
    api_requests: api,
    msgs_in_per_task: per(total.in_msgs),
    msgs_out_per_task: per(total.out_msgs),
    kb_in_per_task: per(total.in_bytes / 1024),
    kb_out_per_task: per(total.out_bytes / 1024),
    api_requests_per_task: per(api),
    ...out,
  };
}

/** Redis's INFO counters: commands processed, network bytes in and out (the server's, whoever sent them). */
export interface RedisStats {
  commands: number;
  in_bytes: number;
  out_bytes: number;
}

export function redisDelta(before: RedisStats, after: RedisStats, tasks: number): Record<string, number> {
  const per = (x: number) => round(x / Math.max(1, tasks), 2);
  const commands = after.commands - before.commands;
  return {
    commands,
    commands_per_task: per(commands),
    kb_in_per_task: per((after.in_bytes - before.in_bytes) / 1024),
    kb_out_per_task: per((after.out_bytes - before.out_bytes) / 1024),
  };
}
