import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import {
  type BusLogger,
  noopLogger,
  openResultsBucket,
  provisionAll,
  publishJson,
  readResultsValue,
} from '@orchestra/bus';
import { type ExecutionResults, type PlanInput, Subjects } from '@orchestra/contracts';
import { startDispatcher } from '@orchestra/dispatcher';
import { startOrchestrator } from '@orchestra/orchestrator';
import { startResults } from '@orchestra/results';
import type { NatsServerHandle } from '@orchestra/testing';
import { waitFor } from './wait.js';

const FINAL = new Set(['completed', 'partial', 'failed', 'cancelled', 'rejected']);

export type ServiceRole = 'orchestrator' | 'dispatcher' | 'results';
/** Who a connection acts for: `admin` provisions the streams, `client` executes and reads results. */
export type SystemRole = ServiceRole | 'client' | 'admin';

export interface InProcessSystemOptions {
  /** Extra connection options (credentials, TLS) per role; a role without any connects anonymously. */
  connections?: Partial<Record<SystemRole, Partial<NodeConnectionOptions>>>;
  /** ORCHESTRA_SIGNING_KEY of the orchestrator: it signs every record it appends (docs/audit.md). */
  signingKey?: string;
}

/** The three services in this process, each on its own connection, against a test's nats-server. */
export class InProcessSystem {
  private readonly stops: Array<() => Promise<void>> = [];
  private readonly connections: NatsConnection[] = [];
  client!: NatsConnection;
  kv!: KV;

  constructor(
    private readonly server: NatsServerHandle,
    private readonly logger: BusLogger = noopLogger,
    private readonly options: InProcessSystemOptions = {},
  ) {}

  /** A new connection for `role` (anonymous when no options were given for it). */
  async connect(role?: SystemRole): Promise<NatsConnection> {
    const extra = role === undefined ? {} : (this.options.connections?.[role] ?? {});
    const nc = await connect({
      servers: this.server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      ...(role === undefined ? {} : { name: `orchestra-test-${role}` }),
      ...extra,
    });
    this.connections.push(nc);
    return nc;
  }

  async start(which: ServiceRole[] = ['orchestrator', 'dispatcher', 'results']) {
    this.client ??= await this.connect('client');
    // Provisioning is an admin step: with per-role credentials it runs on a connection of its own.
    const admin = this.options.connections?.admin ? await this.connect('admin') : this.client;
    await provisionAll(admin);
    if (admin !== this.client) await admin.close();
    this.kv ??= await openResultsBucket(jetstream(this.client));
    for (const name of which) await this.startService(name);
    return this;
  }

  async startService(name: ServiceRole) {
    const connection = await this.connect(name);
    const options = { connection, logger: this.logger, provision: false };
    const signing = this.options.signingKey ? { signingKey: this.options.signingKey } : {};
    const service =
      name === 'orchestrator'
        ? await startOrchestrator({ ...options, ...signing })
        : name === 'dispatcher'
          ? await startDispatcher(options)
          : await startResults(options);
    this.stops.push(() => service.stop());
    return service;
  }

  /** Stops `stop` (a service the test started itself) with the system. */
  onStop(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async execute(plan: PlanInput | unknown, execution_id: string): Promise<void> {
    await publishJson(
      jetstream(this.client),
      Subjects.executeCommand,
      { type: 'ExecutePlan', plan, execution_id },
      {
        msgID: execution_id,
      },
    );
  }

  async results(execution_id: string): Promise<ExecutionResults | undefined> {
    const read = () => this.kv.get(execution_id);
    const value = await readResultsValue(jetstream(this.client), await read(), read);
    return (value ?? undefined) as ExecutionResults | undefined;
  }

  async finalResults(execution_id: string, timeoutMs = 30_000): Promise<ExecutionResults> {
    return waitFor(
      async () => {
        const results = await this.results(execution_id);
        return results && FINAL.has(results.status) ? results : undefined;
      },
      { timeoutMs, what: `final execution_results of ${execution_id}` },
    );
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
    for (const nc of this.connections) await nc.close().catch(() => undefined);
  }
}
