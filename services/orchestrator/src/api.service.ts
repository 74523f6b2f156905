import type { JetStreamClient } from '@nats-io/jetstream';
import { pluginsOfPlan, publishJson } from '@orchestra/bus';
import {
  CancelExecution,
  ExecutePlan,
  type ExecutionContext,
  ExecutionRef,
  NotFoundError,
  newExecutionId,
  parseOrThrow,
  Subjects,
  ValidationError,
  validatePlan,
} from '@orchestra/contracts';
import { toExecutionContext } from '@orchestra/execution';
import type { ExecutionStore } from './execution-store.js';

/**
 * The request/reply API for interactive clients. `execute` validates first so that the caller
 * hears about a bad plan at once, then stores the command: its publish ack means "will run".
 */
export class ApiService {
  constructor(
    private readonly js: JetStreamClient,
    private readonly store: ExecutionStore,
    /** The plugins among these that no live worker serves (README, Plugins): warned about. */
    private readonly unserved: (plugins: string[]) => Promise<string[]> = async () => [],
  ) {}

  async execute(
    request: unknown,
  ): Promise<{ execution_id: string; duplicate: boolean; warnings?: string[] }> {
    const command = parseOrThrow(ExecutePlan, request, 'ExecutePlan request');
    const validation = validatePlan(command.plan);
    if (!validation.ok) {
      throw new ValidationError(`invalid plan: ${validation.issues.length} problem(s)`, validation.issues);
    }
    const execution_id = command.execution_id ?? newExecutionId();
    const [ack, unserved] = await Promise.all([
      publishJson(
        this.js,
        Subjects.executeCommand,
        { type: 'ExecutePlan', plan: validation.plan, execution_id },
        { msgID: execution_id },
      ),
      this.unserved(pluginsOfPlan(validation.plan)).catch(() => []),
    ]);
    const warnings = unserved.map(
      (plugin) => `no live worker serves plugin ${plugin}: its tasks wait for one to start, or time out`,
    );
    return { execution_id, duplicate: ack.duplicate, ...(warnings.length > 0 ? { warnings } : {}) };
  }

  async cancel(request: unknown): Promise<{ execution_id: string; accepted: true }> {
    const command = parseOrThrow(CancelExecution, request, 'CancelExecution request');
    await publishJson(this.js, Subjects.cancelCommand, command);
    return { execution_id: command.execution_id, accepted: true };
  }

  async status(request: unknown): Promise<ExecutionContext> {
    const { execution_id } = parseOrThrow(ExecutionRef, request, 'status request');
    const { state } = await this.store.refresh(execution_id);
    if (state.status === 'new') throw new NotFoundError(`no execution ${execution_id}`);
    return toExecutionContext(state);
  }
}
