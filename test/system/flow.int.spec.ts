import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';

const echo = (task_id: string, input_context: Record<string, unknown> = {}) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'echo' },
  input_context,
});

describe('the three services on a real nats-server', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start();
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
  });

  it('runs a two-phase plan with a reference to completion', async () => {
    await system.execute(
      {
        plan_id: 'smoke',
        phases: [
          { phase_id: 'a', tasks: [echo('t1', { x: 41 })] },
          { phase_id: 'b', depends_on_phases: ['a'], tasks: [echo('t2', { y: '${a.t1.output.x}' })] },
        ],
      },
      'smoke-1',
    );
    const results = await system.finalResults('smoke-1');
    expect(results.status).toBe('completed');
    expect(results.phases[1]?.tasks[0]?.output).toEqual({ y: 41 });
    expect(results.summary).toEqual({ total_tasks: 2, successful: 2, failed: 0, skipped: 0, timeout: 0 });
  });
});
