import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { pluginsOfPlan, publishJson } from '@orchestra/bus';
import {
  CancelExecution,
  ExecutePlan,
  type ExecutionContext,
  ExecutionRef,
  NotFoundError,
  newExecutionId,
  parseOrThrow,
  RepairExecution,
  RerunExecution,
  Subjects,
  ValidationError,
  validatePlan,
} from '@orchestra/contracts';
import { type RerunSource, selectRerun, sourceProblem, toExecutionContext } from '@orchestra/execution';
import type { ExecutionStore } from './execution-store.js';
import { loadRerunSource } from './rerun-source.js';

/** The reply to `orchestra.api.rerun`: the new execution, and what it reuses and runs again. */
export interface RerunReply {
  execution_id: string;
  duplicate: boolean;
  rerun_of: string;
  reused: string[];
  run_again: { task: string; why: string }[];
}

/**
 * The request/reply API for interactive clients. `execute` validates first so that the caller
 * hears about a bad plan at once, then stores the command: its publish ack means "will run".
 */
export class ApiService {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
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

  /**
   * Checks a re-run against its source before storing it (a source that is unknown, expired or
   * still running, a corrected plan with other task ids, an unknown task: a clear error, nothing
   * stored), then stores the command and says what the re-run reuses and runs again.
   */
  async rerun(request: unknown): Promise<RerunReply> {
    const command = parseOrThrow(RerunExecution, request, 'RerunExecution request');
    const source = await this.rerunSource(command.source_execution_id);
    const problem = sourceProblem(source);
    if (problem !== undefined)
      throw new ValidationError(problem, [{ path: 'source_execution_id', message: problem }]);
    const validation = validatePlan(command.plan ?? source.state.plan);
    if (!validation.ok)
      throw new ValidationError(`invalid plan: ${validation.issues.length} problem(s)`, validation.issues);
    const selection = selectRerun(source, validation.plan, command.tasks ?? []);
    if (!selection.ok) throw new ValidationError(selection.reason, selection.issues);
    const execution_id = command.execution_id ?? newExecutionId();
    const ack = await publishJson(
      this.js,
      Subjects.rerunCommand,
      { ...command, type: 'RerunExecution', execution_id },
      { msgID: execution_id },
    );
    return {
      execution_id,
      duplicate: ack.duplicate,
      rerun_of: command.source_execution_id,
      reused: selection.reused.map(({ phase_id, task_id }) => `${phase_id}.${task_id}`),
      run_again: selection.runAgain.map(({ phase_id, task_id, why }) => ({
        task: `${phase_id}.${task_id}`,
        why,
      })),
    };
  }

  /** A re-run's source, read from its log. */
  rerunSource(executionId: string): Promise<RerunSource> {
    return loadRerunSource(this.jsm, executionId);
  }

  /**
   * Stores a RepairExecution for a running execution (orchestra doctor --repair); refuses one for
   * an execution that is unknown or has ended, or names tasks the plan does not have.
   */
  async repair(request: unknown): Promise<{ execution_id: string; accepted: true }> {
    const command = parseOrThrow(RepairExecution, request, 'RepairExecution request');
    const { state } = await this.store.refresh(command.execution_id);
    if (state.status === 'new') throw new NotFoundError(`no execution ${command.execution_id}`);
    if (state.status !== 'running')
      throw new ValidationError(
        `execution ${command.execution_id} is not running (${state.result ?? state.status}): nothing to repair`,
        [{ path: 'execution_id', message: 'must name a running execution' }],
      );
    const unknown = (command.tasks ?? []).filter((task_id) => state.tasks[task_id] === undefined);
    if (unknown.length > 0)
      throw new ValidationError(
        `not tasks of the plan: ${unknown.join(', ')}`,
        unknown.map((task_id) => ({ path: `tasks.${task_id}`, message: 'is not a task of the plan' })),
      );
    await publishJson(this.js, Subjects.repairCommand, { ...command, type: 'RepairExecution' });
    return { execution_id: command.execution_id, accepted: true };
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
