import type { IncomingMessage, ServerResponse } from 'node:http';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { listWorkers, readAuditRecords, verifyChain } from '@orchestra/bus';
import { NotFoundError, parsePlan, Streams, Subjects, ValidationError } from '@orchestra/contracts';
import { CONSOLE_DEPS, type ConsoleDeps } from './deps.js';
import { differences } from './differences.js';
import { type ExamplePlan, readExamples } from './examples.js';
import { streamExecution } from './execution-stream.js';
import type {
  ActionResponse,
  ExecutionChange,
  ExecutionPage,
  Facets,
  PluginSummary,
  PluginsView,
  ReplayCheck,
  RerunResponse,
  SessionInfo,
  ValidateResponse,
} from './model/api-types.js';
import {
  AfterQuery,
  apiError,
  CancelBody,
  executionIdParam,
  ListQuery,
  PlanBody,
  parseRequest,
  RerunBody,
} from './requests.js';
import { requestRerun } from './rerun.js';
import { resumePoint, SseStream } from './sse.js';

const CHANGES_FLUSH_MS = 250;

/**
 * The console's JSON API and event streams: thin adapters over the index, the event log and
 * the client (the same one the CLI uses), so every action here is the CLI's action.
 */
@Controller('api')
export class ConsoleController {
  constructor(@Inject(CONSOLE_DEPS) private readonly deps: ConsoleDeps) {}

  @Get('session')
  session(@Req() request: IncomingMessage): SessionInfo {
    return {
      csrf_token: this.deps.guard.csrfToken(request),
      capabilities: this.deps.capabilities,
      cli: this.deps.cli,
    };
  }

  @Get('examples')
  examples(): ExamplePlan[] {
    return readExamples(this.deps.examplesDir);
  }

  /** `orchestra plugins`: the live workers of each plugin, as they announce themselves. */
  @Get('plugins')
  async plugins(): Promise<PluginsView> {
    const workers = await listWorkers(this.deps.client.nc, { stallMs: 250, maxWaitMs: 1_500 });
    const plugins = new Map<string, PluginSummary>();
    for (const worker of workers) {
      const summary = plugins.get(worker.plugin) ?? {
        plugin: worker.plugin,
        kind: worker.kind,
        workers: [],
        concurrency: 0,
        in_flight: 0,
        processed: 0,
        failed: 0,
      };
      summary.workers.push(worker);
      summary.concurrency += worker.concurrency ?? 0;
      summary.in_flight += worker.in_flight ?? 0;
      summary.processed += worker.processed ?? 0;
      summary.failed += worker.failed ?? 0;
      plugins.set(worker.plugin, summary);
    }
    const ran = this.deps.isIndexLoaded() ? this.deps.index.facets().plugins : [];
    return { plugins: [...plugins.values()], without_worker: ran.filter((name) => !plugins.has(name)) };
  }

  @Get('executions')
  async list(@Query() query: unknown): Promise<ExecutionPage> {
    const { status, plan, plugin, q, limit, before } = parseRequest(ListQuery, query, 'list query');
    await this.deps.indexReady();
    const filter = {
      statuses: new Set(status),
      plan: plan || null,
      plugin: plugin || null,
      text: q ? q.toLowerCase() : null,
    };
    return this.deps.index.page(filter, limit, before ?? null);
  }

  @Get('facets')
  async facets(): Promise<Facets> {
    await this.deps.indexReady();
    return this.deps.index.facets();
  }

  /** Rows that change, as they change: resumes after Last-Event-ID (a bucket revision). */
  @Get('executions/changes')
  async changes(@Req() request: IncomingMessage, @Res() response: ServerResponse, @Query() query: unknown) {
    const after = resumePoint(request, parseRequest(AfterQuery, query, 'query').after);
    if (after === 'invalid') throw apiError(400, 'VALIDATION', 'Last-Event-ID must be a revision number');
    await this.deps.indexReady();
    const sse = new SseStream(response);
    const pending = new Map<string, ExecutionChange>();
    const flush = () => {
      if (pending.size === 0 || !sse.isOpen) return;
      const changes = [...pending.values()];
      pending.clear();
      void sse.send('changes', changes, Math.max(...changes.map((c) => c.revision)));
    };
    // Subscribe before reading the backlog: a change in between is sent twice, never missed.
    const unsubscribe = this.deps.index.subscribe((change) => pending.set(change.execution_id, change));
    const timer = setInterval(flush, CHANGES_FLUSH_MS);
    sse.onClose(() => {
      clearInterval(timer);
      unsubscribe();
    });
    const backlog = this.deps.index.changesSince(after ?? this.deps.index.revision);
    for (const change of backlog)
      if (!pending.has(change.execution_id)) pending.set(change.execution_id, change);
    flush();
  }

  @Get('executions/:id')
  async one(@Param('id') id: string) {
    const execution_id = executionIdParam(id);
    const results = await this.deps.client.results(execution_id);
    const summary = this.deps.index.get(execution_id) ?? null;
    if (!results && !(await this.exists(execution_id))) throw notFound(execution_id);
    return { summary, results };
  }

  /** The execution's stored messages, then live ones: Server-Sent Events resumed by Last-Event-ID. */
  @Get('executions/:id/events')
  async events(
    @Param('id') id: string,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
    @Query() query: unknown,
  ) {
    const execution_id = executionIdParam(id);
    const after = resumePoint(request, parseRequest(AfterQuery, query, 'query').after);
    if (after === 'invalid') throw apiError(400, 'VALIDATION', 'Last-Event-ID must be a stream sequence');
    const sse = new SseStream(response);
    await streamExecution(this.deps.bus, execution_id, after ?? 0, sse, this.deps.logger).catch(() =>
      sse.close(),
    );
  }

  /**
   * `orchestra replay`: execution_results recomputed from the log with the services' fold, and
   * the log's tamper-evident chain verified record by record (libs/bus verifyChain).
   */
  @Get('executions/:id/replay')
  async replay(@Param('id') id: string): Promise<ReplayCheck> {
    const execution_id = executionIdParam(id);
    try {
      const [report, records] = await Promise.all([
        this.deps.client.replay(execution_id),
        readAuditRecords(this.deps.bus.jsm, execution_id),
      ]);
      const {
        head: _head,
        execution_id: _id,
        ...chain
      } = verifyChain(execution_id, records, this.deps.trusted);
      return {
        execution_id,
        matches: report.matches,
        stored: report.stored !== null,
        events: report.events.length,
        differences: report.stored === null ? [] : differences(report.stored, report.recomputed, 20),
        chain,
      };
    } catch (error) {
      if (error instanceof NotFoundError) throw notFound(execution_id);
      throw error;
    }
  }

  @Post('executions/:id/cancel')
  @HttpCode(202)
  async cancel(@Param('id') id: string, @Body() body: unknown): Promise<ActionResponse> {
    const execution_id = executionIdParam(id);
    const { reason } = parseRequest(CancelBody, body, 'cancel request');
    if (!(await this.exists(execution_id))) throw notFound(execution_id);
    await this.deps.client.cancel(execution_id, reason);
    const why = reason ? ` --reason ${shellQuote(reason)}` : '';
    return { execution_id, cli: `${this.deps.cli} cancel ${execution_id}${why}` };
  }

  /** Re-run from failure: what succeeded is reused, the rest and what depends on it runs again. */
  @Post('executions/:id/rerun')
  @HttpCode(202)
  async rerun(@Param('id') id: string, @Body() body: unknown): Promise<RerunResponse> {
    const source_execution_id = executionIdParam(id);
    const { tasks, execution_id } = parseRequest(RerunBody, body, 'rerun request');
    const request = {
      source_execution_id,
      ...(tasks?.length ? { tasks } : {}),
      ...(execution_id ? { execution_id } : {}),
    };
    return requestRerun(this.deps.client.nc, request, this.deps.cli);
  }

  @Post('plans/validate')
  @HttpCode(200)
  validate(@Body() body: unknown): ValidateResponse {
    const { text } = parseRequest(PlanBody, body, 'plan request');
    const validation = parsePlan(text);
    if (!validation.ok) return { ok: false, issues: validation.issues };
    const { plan } = validation;
    const tasks = plan.phases.reduce((sum, phase) => sum + phase.tasks.length, 0);
    return { ok: true, issues: [], plan: { plan_id: plan.plan_id, phases: plan.phases.length, tasks } };
  }

  @Post('plans')
  @HttpCode(202)
  async submit(@Body() body: unknown): Promise<ActionResponse> {
    const { text, execution_id } = parseRequest(PlanBody, body, 'plan request');
    const validation = parsePlan(text);
    if (!validation.ok) throw apiError(400, 'VALIDATION', 'invalid plan', validation.issues);
    try {
      const result = await this.deps.client.execute(validation.plan, execution_id);
      return {
        execution_id: result.execution_id,
        duplicate: result.duplicate,
        cli: `${this.deps.cli} run plan.yaml --id ${result.execution_id}`,
      };
    } catch (error) {
      if (error instanceof ValidationError) throw apiError(400, 'VALIDATION', error.message, error.issues);
      throw error;
    }
  }

  private async exists(execution_id: string): Promise<boolean> {
    if (this.deps.index.get(execution_id)) return true;
    const last = await this.deps.bus.jsm.streams.getMessage(Streams.events, {
      last_by_subj: Subjects.events(execution_id),
    });
    return last !== null;
  }
}

@Controller('health')
export class ConsoleHealthController {
  constructor(@Inject(CONSOLE_DEPS) private readonly deps: ConsoleDeps) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready when NATS answers and the executions index holds the whole results bucket. */
  @Get('ready')
  async ready() {
    const nats = !this.deps.client.nc.isClosed();
    const index = this.deps.isIndexLoaded();
    if (nats && index) {
      await this.deps.client.nc.flush();
      return { status: 'ok', nats: 'up', index: this.deps.index.size };
    }
    throw apiError(
      503,
      'NOT_READY',
      nats ? 'the executions index is still loading' : 'NATS is not connected',
    );
  }
}

function notFound(execution_id: string) {
  return apiError(404, 'NOT_FOUND', `no execution ${execution_id}`);
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
