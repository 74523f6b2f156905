import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { decode, encode, openResultsBucket, provisionAll } from '@orchestra/bus';
import {
  type EventRecord,
  type ExecutionEvent,
  type ExecutionResults,
  Streams,
  Subjects,
} from '@orchestra/contracts';
import { type NatsServer, startNats } from './infra.js';
import { type Child, epochMs, startChild, waitFor } from './procs.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(REPO_ROOT, 'apps/cli/bin/orchestra.js');
const FINAL = new Set(['completed', 'partial', 'failed', 'cancelled', 'rejected']);

/** The name of the benchmark's watching connection (see OrchestraSystem.nc). */
export const OBSERVER = 'orchestra-bench-observer';

export type ServiceName = 'orchestrator' | 'dispatcher' | 'results';
export const SERVICE_NAMES: readonly ServiceName[] = ['orchestrator', 'dispatcher', 'results'];

export interface SystemOptions {
  /** Write a V8 CPU profile of each service process into this directory (node --cpu-prof). */
  profileDir?: string | undefined;
}

/** An event as the benchmark saw it go by, with the moment it arrived. */
export interface SeenEvent {
  event: ExecutionEvent;
  seenAt: number;
}

/**
 * Orchestra as a user runs it: a nats-server of its own, and each service in a process of its own
 * (`orchestra up --services <name>`), so the orchestrator's RSS and CPU are its alone and it can
 * be killed with SIGKILL.
 */
export class OrchestraSystem {
  readonly services = new Map<ServiceName, Child>();
  /** The benchmark's watching connection (copies, results, backlog): not counted as Orchestra's traffic. */
  nc!: NatsConnection;
  /** The benchmark's producer connection: it publishes the ExecutePlan commands, as a user would. */
  producer!: NatsConnection;
  private producerJs!: JetStreamClient;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  kv!: KV;
  /** The CPU profiles the services write when they stop, with when each process was spawned. */
  readonly profiles: Array<{ service: ServiceName; file: string; spawnedAt: number }> = [];
  private eventsSub: Subscription | undefined;
  private restarts = 0;

  private constructor(
    readonly nats: NatsServer,
    private readonly options: SystemOptions,
  ) {}

  static async start(options: SystemOptions = {}): Promise<OrchestraSystem> {
    const system = new OrchestraSystem(await startNats(), options);
    try {
      const open = (name: string) =>
        connect({ servers: system.nats.url, name, maxReconnectAttempts: -1, noAsyncTraces: true });
      system.nc = await open(OBSERVER);
      system.producer = await open('orchestra-bench-producer');
      system.producerJs = jetstream(system.producer);
      await provisionAll(system.nc);
      system.js = jetstream(system.nc);
      system.jsm = await jetstreamManager(system.nc);
      system.kv = await openResultsBucket(system.js);
      await Promise.all(SERVICE_NAMES.map((name) => system.startService(name)));
    } catch (error) {
      await system.stop();
      throw error;
    }
    return system;
  }

  pid(name: ServiceName): number {
    return this.services.get(name)?.pid ?? -1;
  }

  /** The services' and the nats-server's process ids, by name. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of SERVICE_NAMES) out[name] = this.pid(name);
    out['nats-server'] = this.nats.pid;
    return out;
  }

  async startService(name: ServiceName): Promise<Child> {
    const profile = this.options.profileDir;
    const nodeArgs: string[] = [];
    if (profile) {
      const dir = join(profile, name);
      mkdirSync(dir, { recursive: true });
      const file = `${name}-${this.restarts++}.cpuprofile`;
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', file);
      this.profiles.push({ service: name, file: join(dir, file), spawnedAt: epochMs() });
    }
    const env: NodeJS.ProcessEnv = {};
    // No tracing exporter, no health server, warnings only: the services as they run under load.
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('OTEL_')) env[key] = value;
    Object.assign(env, {
      NATS_URL: this.nats.url,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      HEALTH_PORT: '0',
      ORCHESTRA_PROVISION: 'false',
    });
    const child = startChild(process.execPath, [...nodeArgs, CLI, 'up', '--services', name], {
      cwd: REPO_ROOT,
      env,
    });
    this.services.set(name, child);
    await waitFor(
      () => child.output().includes('orchestra up:') || child.process.exitCode !== null,
      30_000,
      `orchestra up --services ${name}`,
    );
    if (child.process.exitCode !== null)
      throw new Error(`orchestra up --services ${name} exited: ${child.output()}`);
    return child;
  }

  /** Publishes ExecutePlan as a producer does: stored in the commands stream, id = execution id. */
  async execute(plan: unknown, executionId: string): Promise<void> {
    await this.producerJs.publish(
      Subjects.executeCommand,
      encode({ type: 'ExecutePlan', plan, execution_id: executionId }),
      {
        msgID: executionId,
        timeout: 30_000,
      },
    );
  }

  /** Every event appended from now on, as it goes by (a core subscription: a copy, no consumer). */
  watchEvents(onEvent: (seen: SeenEvent) => void): void {
    this.eventsSub?.unsubscribe();
    const sub = this.nc.subscribe(Subjects.allEvents);
    this.eventsSub = sub;
    void (async () => {
      for await (const msg of sub) {
        const seenAt = epochMs();
        try {
          for (const event of decode(msg.data) as EventRecord) onEvent({ event, seenAt });
        } catch {
          // not an event: nothing to time
        }
      }
    })().catch(() => undefined); // the connection closed: the waits time out and say so
  }

  async results(executionId: string): Promise<ExecutionResults | undefined> {
    const entry = await this.kv.get(executionId);
    if (entry?.operation !== 'PUT') return undefined;
    const results = decode(entry.value) as ExecutionResults;
    return FINAL.has(results.status) ? results : undefined;
  }

  /**
   * How far the consumers of the events stream are: the stream's last sequence and, per durable
   * (the results projector, the orchestrator's outbox), the last sequence acknowledged.
   */
  async eventsBacklog(): Promise<Record<string, number>> {
    const stream = await this.jsm.streams.info(Streams.events);
    const out: Record<string, number> = { stream_last_seq: stream.state.last_seq };
    for (const durable of ['results', 'orchestrator-effects']) {
      const info = await this.jsm.consumers.info(Streams.events, durable).catch(() => undefined);
      if (info) out[`${durable}_acked_seq`] = info.ack_floor.stream_seq;
    }
    return out;
  }

  async stop(): Promise<void> {
    this.eventsSub?.unsubscribe();
    // Graceful: a profiled service writes its .cpuprofile on a normal exit only.
    await Promise.all([...this.services.values()].map((child) => child.stop()));
    await this.nc?.close().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    await this.nats.stop();
  }
}

/** Polls the results bucket for executions whose ExecutionFinished went by, until each is final. */
export class ResultsWaiter {
  private readonly pending = new Set<string>();
  private readonly done = new Map<string, { at: number; results: ExecutionResults }>();

  constructor(private readonly system: OrchestraSystem) {}

  finished(executionId: string): void {
    if (!this.done.has(executionId)) this.pending.add(executionId);
  }

  get count(): number {
    return this.done.size;
  }

  get(executionId: string) {
    return this.done.get(executionId);
  }

  /** Looks once for the final results of the pending executions (or of `ids`, pending or not). */
  async poll(ids: string[] = [...this.pending]): Promise<void> {
    for (let i = 0; i < ids.length; i += 64) {
      await Promise.all(
        ids.slice(i, i + 64).map(async (id) => {
          const results = await this.system.results(id);
          if (!results) return;
          this.pending.delete(id);
          this.done.set(id, { at: epochMs(), results });
        }),
      );
    }
  }
}
