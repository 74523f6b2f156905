import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { readResultsValue } from '@orchestra/bus';
import { ExecutionRef, ExecutionResults, NotFoundError, parseOrThrow } from '@orchestra/contracts';
import { z } from 'zod';

export const ListRequest = z.strictObject({
  limit: z.number().int().min(1).max(1000).default(100),
  status: z.string().optional(),
});

export interface ExecutionListing {
  execution_id: string;
  plan_id: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  summary: ExecutionResults['summary'];
}

/** Queries over the results bucket: one execution's results, and a listing newest first. */
export class ResultsApi {
  constructor(
    private readonly js: JetStreamClient,
    private readonly kv: KV,
  ) {}

  async results(request: unknown): Promise<ExecutionResults> {
    const { execution_id } = parseOrThrow(ExecutionRef, request, 'results request');
    const entry = await this.kv.get(execution_id);
    if (entry?.operation !== 'PUT') throw new NotFoundError(`no execution_results for ${execution_id}`);
    return ExecutionResults.parse(await readResultsValue(this.js, entry, () => this.kv.get(execution_id)));
  }

  async list(request: unknown): Promise<{ executions: ExecutionListing[] }> {
    const { limit, status } = parseOrThrow(ListRequest, request ?? {}, 'list request');
    const executions: ExecutionListing[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      const results = ExecutionResults.safeParse(
        await readResultsValue(this.js, entry, () => this.kv.get(key)).catch(() => null),
      );
      if (!results.success) continue;
      const { execution_id, plan_id, started_at, finished_at, summary } = results.data;
      if (status && results.data.status !== status) continue;
      executions.push({
        execution_id,
        plan_id,
        status: results.data.status,
        started_at,
        finished_at,
        summary,
      });
    }
    executions.sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
    return { executions: executions.slice(0, limit) };
  }
}
