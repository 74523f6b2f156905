import type { NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from '@orchestra/bus';
import { Subjects } from '@orchestra/contracts';
import { z } from 'zod';
import type { RerunResponse } from './model/api-types.js';
import { rerunCommand } from './model/commands.js';
import { apiError } from './requests.js';

const Issue = z.object({ path: z.string(), message: z.string() });

/** What `orchestra.api.rerun` answers (the orchestrator's RerunReply), checked as it arrives. */
const RerunReply = z.union([
  z.object({
    execution_id: z.string(),
    duplicate: z.boolean(),
    rerun_of: z.string(),
    reused: z.array(z.string()),
    run_again: z.array(z.object({ task: z.string(), why: z.string() })),
  }),
  z.object({ error: z.object({ code: z.string(), message: z.string(), issues: z.array(Issue).optional() }) }),
]);

/** The orchestrator's error codes (libs/bus errorReply) as HTTP statuses. */
const STATUS_OF: Record<string, number> = { NOT_FOUND: 404, VALIDATION: 400, INTERNAL: 502 };

/**
 * Re-run from failure through the orchestrator's `orchestra.api.rerun`, which checks the request
 * against the source execution before it stores the RerunExecution command, and says what the new
 * execution reuses and what runs again. A refusal keeps its issues (paths) for the page.
 */
export async function requestRerun(
  nc: NatsConnection,
  body: { source_execution_id: string; tasks?: string[] | undefined; execution_id?: string | undefined },
  cli: string,
): Promise<RerunResponse> {
  let data: Uint8Array;
  try {
    data = (await nc.request(Subjects.api('rerun'), encode(body), { timeout: 10_000 })).data;
  } catch (error) {
    throw apiError(
      503,
      'UNAVAILABLE',
      `no orchestrator answered orchestra.api.rerun (${(error as Error).message})`,
    );
  }
  const reply = RerunReply.safeParse(decode(data));
  if (!reply.success)
    throw apiError(502, 'BAD_REPLY', 'orchestra.api.rerun answered something that is not a RerunReply');
  if ('error' in reply.data) {
    const { code, message, issues } = reply.data.error;
    throw apiError(STATUS_OF[code] ?? 400, code, message, issues);
  }
  return {
    ...reply.data,
    cli: rerunCommand(cli, body.source_execution_id, body.tasks, body.execution_id),
  };
}
