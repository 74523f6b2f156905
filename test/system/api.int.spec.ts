import { OrchestraClient } from '@orchestra/client';
import type { ExecutionContext, ExecutionResults } from '@orchestra/contracts';
import { OrchestraError } from '@orchestra/contracts';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';

/** The orchestra.api.* request/reply endpoints, as a dashboard or any NATS client would use them. */
describe('orchestra.api request/reply', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let client: OrchestraClient;
  const plan = {
    plan_id: 'api',
    phases: [
      {
        phase_id: 'p',
        tasks: [
          { task_id: 't', assigned_plugin: 'builtin', entry_point: { type: 'function', value: 'echo' } },
        ],
      },
    ],
  };

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start();
    client = await OrchestraClient.using(await system.connect());
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
  });

  it('execute stores the command and replies with the execution id; results and status answer for it', async () => {
    const reply = await client.request<{ execution_id: string; duplicate: boolean }>('execute', {
      plan,
      execution_id: 'api-1',
    });
    expect(reply).toEqual({ execution_id: 'api-1', duplicate: false });
    await system.finalResults('api-1');
    const results = await client.request<ExecutionResults>('results', { execution_id: 'api-1' });
    expect(results).toMatchObject({ execution_id: 'api-1', status: 'completed' });
    const status = await client.request<ExecutionContext>('status', { execution_id: 'api-1' });
    expect(status).toMatchObject({ plan_id: 'api', state: 'completed', completed_phases: ['p'] });
    const listing = await client.request<{ executions: Array<{ execution_id: string }> }>('list', {});
    expect(listing.executions.map((e) => e.execution_id)).toContain('api-1');
  });

  it('execute without an id chooses one; a repeated id is a duplicate', async () => {
    const first = await client.request<{ execution_id: string }>('execute', { plan });
    expect(first.execution_id).toMatch(/^x[0-9a-z]+-[0-9a-f]{8}$/);
    const again = await client.request<{ duplicate: boolean }>('execute', {
      plan,
      execution_id: first.execution_id,
    });
    expect(again.duplicate).toBe(true);
  });

  it('execute warns, naming them, about plugins no live worker serves', async () => {
    const unserved = {
      plan_id: 'api-unserved',
      phases: [
        {
          phase_id: 'p',
          tasks: [
            {
              task_id: 't',
              assigned_plugin: 'finance@cowork',
              fallback_plugin: 'builtin',
              entry_point: { type: 'skill', value: 'x' },
              timeout_ms: 1000,
            },
          ],
        },
      ],
    };
    const reply = await client.request<{ execution_id: string; warnings?: string[] }>('execute', {
      plan: unserved,
      execution_id: 'api-unserved',
    });
    expect(reply.warnings).toEqual([
      'no live worker serves plugin finance@cowork: its tasks wait for one to start, or time out',
    ]);
  });

  it('replies with a validation error naming every problem for an invalid plan', async () => {
    const reply = await client.nc.request(
      'orchestra.api.execute',
      new TextEncoder().encode(JSON.stringify({ plan: { plan_id: 'x', phases: [] } })),
    );
    const body = reply.json<{ error: { code: string; issues: Array<{ path: string; message: string }> } }>();
    expect(body.error.code).toBe('VALIDATION');
    expect(body.error.issues).toEqual([
      { path: 'phases', message: expect.stringMatching(/at least one phase/) },
    ]);
  });

  it('answers NOT_FOUND for an unknown execution and VALIDATION for a malformed request', async () => {
    await expect(client.request('status', { execution_id: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(client.request('results', { execution_id: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(client.request('status', { execution_id: 'bad.id' })).rejects.toBeInstanceOf(OrchestraError);
    await expect(client.request('cancel', {})).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
