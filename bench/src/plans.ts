import { encode } from '@orchestra/bus';
import { type PlanInput, type TaskInput, validatePlan } from '@orchestra/contracts';

const PHASE = 'p1';

function echoTask(i: number, input: Record<string, unknown> = { i }): TaskInput {
  return {
    task_id: `t${i}`,
    description: 'echo',
    assigned_plugin: 'builtin',
    entry_point: { type: 'function', value: 'echo' },
    input_context: input as TaskInput['input_context'],
    output_key: `o${i}`,
  };
}

/** W and M: one parallel phase of `width` echo tasks. */
export function widePlan(width: number, planId = 'bench-wide'): PlanInput {
  const tasks = Array.from({ length: width }, (_, i) => echoTask(i));
  return { plan_id: planId, phases: [{ phase_id: PHASE, execution_mode: 'parallel', tasks }] };
}

/**
 * C and S: one sequential phase of `steps` echo tasks, each reading the previous one's output
 * through a reference, so every step waits for the one before and resolves a reference.
 */
export function chainPlan(steps: number, planId = 'bench-chain'): PlanInput {
  const tasks = Array.from({ length: steps }, (_, i) =>
    echoTask(i, i === 0 ? { i } : { i, prev: `\${${PHASE}.t${i - 1}.output.i}` }),
  );
  return { plan_id: planId, phases: [{ phase_id: PHASE, execution_mode: 'sequential', tasks }] };
}

export interface PlanFit {
  ok: boolean;
  /** Bytes of the ExecutePlan command and of the ExecutionStarted event it becomes. */
  commandBytes: number;
  startedEventBytes: number;
  /** What refuses the plan, when something does. */
  refusedBy?: string;
}

/** Room a message's headers (msg id, expected sequence, trace context) need beside the payload. */
const HEADER_ROOM = 1024;

/**
 * Whether a plan gets through every size limit on its way in: the plan's own validation, the
 * server's max_payload for the ExecutePlan command (checked by the client before publishing),
 * and for the ExecutionStarted event the orchestrator appends (the plan with every default filled
 * in; the orchestrator rejects the execution when the server refuses that append).
 */
export function planFit(plan: PlanInput, maxPayload: number, executionId = 'bench-w-000000'): PlanFit {
  const commandBytes = encode({ type: 'ExecutePlan', plan, execution_id: executionId }).length;
  const validation = validatePlan(plan);
  if (!validation.ok) {
    const first = validation.issues[0];
    return {
      ok: false,
      commandBytes,
      startedEventBytes: 0,
      refusedBy: `plan validation: ${first?.path}: ${first?.message}`,
    };
  }
  const startedEventBytes = encode({
    type: 'ExecutionStarted',
    execution_id: executionId,
    at: Date.now(),
    plan: validation.plan,
  }).length;
  const refusals: string[] = [];
  if (commandBytes + HEADER_ROOM > maxPayload) {
    refusals.push(
      `the ExecutePlan command is ${commandBytes} bytes, over the server's max_payload of ${maxPayload} (the NATS client refuses to publish it)`,
    );
  }
  if (startedEventBytes + HEADER_ROOM > maxPayload) {
    refusals.push(
      `the ExecutionStarted event (the plan with its defaults) is ${startedEventBytes} bytes, over the max_payload of ${maxPayload} (the orchestrator rejects the execution as too large)`,
    );
  }
  if (refusals.length === 0) return { ok: true, commandBytes, startedEventBytes };
  return { ok: false, commandBytes, startedEventBytes, refusedBy: refusals.join('; and ') };
}

/** The requested width if it fits, otherwise the largest that does (a binary search on the sizes). */
export function widestFit(
  requested: number,
  maxPayload: number,
): { width: number; requested: PlanFit; limitedBy?: string } {
  const fit = planFit(widePlan(requested), maxPayload);
  if (fit.ok) return { width: requested, requested: fit };
  let low = 1;
  let high = requested - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (planFit(widePlan(mid), maxPayload).ok) low = mid;
    else high = mid - 1;
  }
  const next = planFit(widePlan(low + 1), maxPayload).refusedBy;
  return { width: low, requested: fit, ...(next ? { limitedBy: next } : {}) };
}
