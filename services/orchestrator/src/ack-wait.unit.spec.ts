import type { CommandBus } from '@nestjs/cqrs';
import { JetStreamContext, type MessageContext } from '@orchestra/bus';
import type { EventRecord, ExecutionEvent, TaskOutcome } from '@orchestra/contracts';
import type { OrchestraMetrics } from '@orchestra/observability';
import type { ApiService } from './api.service.js';
import { ORCHESTRATOR_ACK_WAIT_MS, orchestratorBindings } from './bindings.js';
import { orchestratorSettings } from './main.js';
import { OrchestratorController } from './orchestrator.controller.js';
import type { Orchestrator } from './orchestrator.js';

const MS_NS = 1_000_000;

describe('the ack wait of the orchestrator consumers', () => {
  it('is short by default, so that the inputs of a crashed replica come back within seconds', () => {
    expect(ORCHESTRATOR_ACK_WAIT_MS).toBeLessThanOrEqual(3_000);
    const bindings = Object.values(orchestratorBindings({ concurrency: 32 }));
    expect(bindings).toHaveLength(7);
    for (const binding of bindings) expect(binding.consumer.ack_wait).toBe(ORCHESTRATOR_ACK_WAIT_MS * MS_NS);
  });

  it('takes the configured value on every consumer', () => {
    const bindings = Object.values(orchestratorBindings({ concurrency: 32, ackWaitMs: 7_500 }));
    for (const binding of bindings) expect(binding.consumer.ack_wait).toBe(7_500 * MS_NS);
  });

  it('reads ORCHESTRATOR_ACK_WAIT_MS, refusing values it does not understand', () => {
    expect(orchestratorSettings({})).toEqual({ ackWaitMs: ORCHESTRATOR_ACK_WAIT_MS });
    expect(orchestratorSettings({ ORCHESTRATOR_ACK_WAIT_MS: ' 5000 ' })).toEqual({ ackWaitMs: 5_000 });
    for (const bad of ['0', '999', '2.5', 'three', '-3000', '300001']) {
      expect(() => orchestratorSettings({ ORCHESTRATOR_ACK_WAIT_MS: bad })).toThrow(
        /ORCHESTRATOR_ACK_WAIT_MS/,
      );
    }
  });
});

describe('OrchestratorController keeps a slow input alive', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const slow = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

  function harness(decisionMs: number) {
    const commands = { execute: () => slow(decisionMs, { events: [], ignored: null }) };
    const orchestrator = { publishEffectsOf: () => slow(decisionMs, undefined) };
    const metrics = { outcomeDecided: () => undefined, eventStored: () => undefined };
    const controller = new OrchestratorController(
      commands as unknown as CommandBus,
      {} as ApiService,
      orchestrator as unknown as Orchestrator,
      { now: () => 0 },
      metrics as unknown as OrchestraMetrics,
    );
    const working: number[] = [];
    const message: MessageContext = {
      stream: 'S',
      subject: 's',
      seq: 1,
      deliveryCount: 1,
      redelivered: false,
      headers: undefined,
      working: () => working.push(Date.now()),
      keepAliveMs: 1_000, // an ack wait of 3 s
    };
    return { controller, working, ctx: new JetStreamContext([message]) };
  }

  it('calls working() at the interval its consumer asks for while a decision takes 3 ack waits', async () => {
    const { controller, working, ctx } = harness(9_000);
    const start = Date.now();
    const result = controller.outcome({ execution_id: 'e' } as TaskOutcome, ctx);
    await jest.advanceTimersByTimeAsync(9_000);
    await expect(result).resolves.toEqual({ ack: true });
    expect(working.map((at) => at - start)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((s) => s * 1_000));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(working).toHaveLength(8); // stopped with the handler
  });

  it('does the same for the outbox', async () => {
    const { controller, working, ctx } = harness(4_500);
    const result = controller.effects([{ type: 'PhaseStarted' } as ExecutionEvent] as EventRecord, ctx);
    await jest.advanceTimersByTimeAsync(4_500);
    await expect(result).resolves.toEqual({ ack: true });
    expect(working).toHaveLength(4);
  });
});
