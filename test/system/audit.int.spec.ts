import { jetstream } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { noopLogger, readAuditRecords, signerFromKey, verifierFromKey, verifyChain } from '@orchestra/bus';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';

/** Every record the orchestrator appends is chained and signed: a whole run verifies. */
describe('the orchestrator signs the log it appends', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  const seed = new TextDecoder().decode(createUser().getSeed());

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server, noopLogger, { signingKey: seed }).start();
  });
  afterAll(async () => {
    await system?.stop();
    await server?.stop();
  });

  it('verifies a run with retries, a fallback and several phases, every record signed', async () => {
    const task = (task_id: string, value: string, extra: object = {}) => ({
      task_id,
      assigned_plugin: 'builtin',
      entry_point: { type: 'function', value },
      input_context: { failures: 1 },
      backoff: { initial_ms: 10, multiplier: 1, max_ms: 10 },
      ...extra,
    });
    await system.execute(
      {
        plan_id: 'signed',
        phases: [
          { phase_id: 'one', tasks: [task('flaky', 'flaky', { retries: 1 }), task('echo', 'echo')] },
          {
            phase_id: 'two',
            depends_on_phases: ['one'],
            tasks: [task('fails', 'fail', { fallback_plugin: 'builtin' })],
          },
        ],
      },
      'signed-1',
    );
    expect((await system.finalResults('signed-1')).status).toBe('partial');
    const records = await readAuditRecords(jetstream(system.client), 'signed-1');
    const verdict = verifyChain('signed-1', records, [verifierFromKey(signerFromKey(seed).keyId)]);
    expect(verdict).toMatchObject({ ok: true, signatures_verified: records.length, ends_with_finish: true });
    expect(records.length).toBeGreaterThan(3);
  });
});
