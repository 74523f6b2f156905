import { ORCHESTRATOR_ACK_WAIT_MS, orchestratorBindings } from './bindings.js';
import { orchestratorSettings } from './main.js';

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
