import { type Service, type ServiceInfo, type ServiceStats, Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Plan, Subjects, WORKER_SERVICE } from '@orchestra/contracts';
import { z } from 'zod';

/**
 * Workers announce what they serve with the NATS service API (`$SRV.PING|INFO|STATS`): one
 * service `orchestra-worker` per process, one endpoint per plugin, listening on
 * `orchestra.workers.<plugin>`. The format is documented for workers in any language in the
 * README (Plugins, "Announcing a worker"); `nats micro ls` shows them too.
 */

/** One plugin a worker serves: the endpoint's metadata (all strings, as the service API wants). */
export interface AnnouncedPlugin {
  plugin: string;
  kind: string;
  concurrency: number;
}

/** What a worker has done for one plugin: the endpoint's stats `data` and its probe's answer. */
export interface WorkerCounts {
  in_flight: number;
  processed: number;
  failed: number;
}

export interface WorkerAnnouncement {
  /** Who this process is, for people: `ORCHESTRA_INSTANCE`, else host name and pid. */
  instance: string;
  version: string;
  plugins: readonly AnnouncedPlugin[];
  counts(plugin: string): WorkerCounts;
}

/** Starts answering for the given plugins until `stop()` (or the connection closes). */
export async function announceWorker(nc: NatsConnection, announcement: WorkerAnnouncement): Promise<Service> {
  const byEndpoint = new Map<string, AnnouncedPlugin>();
  const service = await serviceManager(nc).add({
    name: WORKER_SERVICE,
    version: announcement.version,
    description: 'Orchestra worker: runs the tasks of the plugins it lists',
    metadata: { instance: announcement.instance },
    queue: WORKER_SERVICE,
    statsHandler: async (endpoint) => {
      const plugin = byEndpoint.get(endpoint.subject);
      return plugin ? announcement.counts(plugin.plugin) : null;
    },
  });
  for (const plugin of announcement.plugins) {
    const subject = Subjects.workerProbe(plugin.plugin);
    byEndpoint.set(subject, plugin);
    service.addEndpoint(endpointName(plugin.plugin), {
      subject,
      metadata: { plugin: plugin.plugin, kind: plugin.kind, concurrency: String(plugin.concurrency) },
      handler: (error, msg) => {
        if (error) return;
        msg.respond(
          JSON.stringify({
            ...plugin,
            instance: announcement.instance,
            ...announcement.counts(plugin.plugin),
          }),
        );
      },
    });
  }
  return service;
}

/**
 * @nats-io/services (3.0.0-25, the newest) pins a prerelease of nats-core whose types differ from
 * 3.4's in details it never touches here (header objects); at run time it only calls the
 * connection's subscribe, request and publish.
 */
function serviceManager(nc: NatsConnection): Svcm {
  return new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]);
}

/** Endpoint names allow letters, digits, `-` and `_` only: `finance@cowork` becomes `finance_cowork`. */
function endpointName(plugin: string): string {
  return plugin.replace(/[^-\w]/g, '_');
}

/** One plugin served by one live worker process. */
export interface LiveWorker {
  plugin: string;
  kind: string;
  instance: string;
  /** The service instance id (a new one at every start). */
  id: string;
  version: string;
  concurrency?: number;
  in_flight?: number;
  processed?: number;
  failed?: number;
}

const Counts = z.object({
  in_flight: z.number().int().min(0),
  processed: z.number().int().min(0),
  failed: z.number().int().min(0),
});

/**
 * Every live worker, from INFO (what each serves) joined with STATS (what each has done; a
 * foreign worker that gives no stats data is listed without counts). Waits until no answer came
 * for `stallMs`, at most `maxWaitMs`.
 */
export async function listWorkers(
  nc: NatsConnection,
  options: { stallMs?: number; maxWaitMs?: number } = {},
): Promise<LiveWorker[]> {
  const client = serviceManager(nc).client({
    strategy: 'stall',
    stall: options.stallMs ?? 300,
    maxWait: options.maxWaitMs ?? 2000,
  });
  const [infos, stats] = await Promise.all([
    collect<ServiceInfo>(client.info(WORKER_SERVICE)),
    collect<ServiceStats>(client.stats(WORKER_SERVICE)),
  ]);
  const statsById = new Map(stats.map((s) => [s.id, s]));
  const workers: LiveWorker[] = [];
  for (const info of infos) {
    for (const endpoint of info.endpoints ?? []) {
      const plugin = endpoint.metadata?.plugin;
      if (!plugin) continue;
      const concurrency = Number(endpoint.metadata?.concurrency);
      const data = statsById.get(info.id)?.endpoints?.find((e) => e.subject === endpoint.subject)?.data;
      const counts = Counts.safeParse(data);
      workers.push({
        plugin,
        kind: endpoint.metadata?.kind ?? 'unknown',
        instance: info.metadata?.instance ?? info.id,
        id: info.id,
        version: info.version,
        ...(Number.isInteger(concurrency) && concurrency > 0 ? { concurrency } : {}),
        ...(counts.success ? counts.data : {}),
      });
    }
  }
  return workers.sort((a, b) => a.plugin.localeCompare(b.plugin) || a.instance.localeCompare(b.instance));
}

async function collect<T>(responses: Promise<AsyncIterable<unknown>>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const response of await responses) out.push(response as T);
  } catch {
    // No responders, or a malformed answer ends the listing with what came before it.
  }
  return out;
}

/** Every plugin a plan names, assigned or fallback, once each. */
export function pluginsOfPlan(plan: Plan): string[] {
  const names = plan.phases.flatMap((phase) =>
    phase.tasks.flatMap((task) => [
      task.assigned_plugin,
      ...(task.fallback_plugin ? [task.fallback_plugin] : []),
    ]),
  );
  return [...new Set(names)];
}

/**
 * The given plugins that no live worker serves now: a request to each plugin's probe subject
 * that gets "no responders" at once. A probe that times out (a busy worker, a slow link) counts
 * as served: a warning must not be a false alarm.
 */
export async function unservedPlugins(
  nc: NatsConnection,
  plugins: Iterable<string>,
  timeoutMs = 1000,
): Promise<string[]> {
  const names = [...new Set(plugins)].sort();
  const served = await Promise.all(
    names.map((plugin) =>
      nc.request(Subjects.workerProbe(plugin), undefined, { timeout: timeoutMs }).then(
        () => true,
        (error: unknown) => !isNoResponders(error),
      ),
    ),
  );
  return names.filter((_, i) => !served[i]);
}

function isNoResponders(error: unknown): boolean {
  const check = (error as { isNoResponders?: () => boolean }).isNoResponders;
  return typeof check === 'function' ? check.call(error) : (error as Error)?.name === 'NoRespondersError';
}
