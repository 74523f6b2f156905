import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noopLogger } from '@orchestra/bus';
import { type Stack, startStack } from '@orchestra/cli';
import { leastPrivilegePlan } from './plans.js';
import { orchestraWith, type SecureNats, startSecureNats } from './secure-nats.js';

/**
 * The deployment of deploy/nats/README.md on a fresh server: `orchestra provision` as admin, one
 * `orchestra up` per service on its own user with ORCHESTRA_PROVISION=false, the CLI as client.
 */
describe('deployment with one NATS user per process', () => {
  let nats: SecureNats;
  let dir: string;
  const stacks: Stack[] = [];

  beforeAll(async () => {
    nats = await startSecureNats();
    dir = mkdtempSync(join(tmpdir(), 'orchestra-recipe-'));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(leastPrivilegePlan));
  });
  afterAll(async () => {
    for (const stack of stacks.reverse()) await stack.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('only the admin provisions; services that may not provision start without it', async () => {
    // A service's user cannot create the streams: with provisioning on, its start fails clearly.
    await expect(
      startStack({
        services: ['dispatcher'],
        natsUrl: nats.server.url,
        logger: noopLogger,
        cwd: dir,
        env: nats.env('dispatcher'),
      }),
    ).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.INFO\.ORCHESTRA_COMMANDS"/);
    const refused = await orchestraWith(['provision'], nats.env('client'), dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Permissions Violation/);

    const provisioned = await orchestraWith(
      ['provision'],
      { ...nats.env('admin'), ORCHESTRA_STREAM_REPLICAS: '1' },
      dir,
    );
    expect(provisioned).toMatchObject({ code: 0, stderr: '' });
    expect(provisioned.stdout.trim().split('\n')).toEqual([
      'ORCHESTRA_COMMANDS: created',
      'ORCHESTRA_EVENTS: created',
      'ORCHESTRA_TASKS: created',
      'ORCHESTRA_OUTCOMES: created',
      'ORCHESTRA_TIMERS: created',
      'ORCHESTRA_DLQ: created',
      'KV_orchestra_results: created',
      'OBJ_orchestra_payloads: created',
    ]);

    for (const service of ['orchestrator', 'dispatcher', 'results'] as const) {
      const env = { ...nats.env(service), ORCHESTRA_PROVISION: 'false' };
      stacks.push(
        await startStack({
          services: [service],
          natsUrl: nats.server.url,
          logger: noopLogger,
          cwd: dir,
          env,
        }),
      );
    }
    const run = await orchestraWith(
      ['run', 'plan.json', '--wait', '--json', '--id', 'recipe-1'],
      nats.env('client'),
      dir,
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ execution_id: 'recipe-1', status: 'completed' });
    // Refused: only the two attempts above, nothing the running services did.
    const expected = [
      /User "client"/,
      /User "dispatcher", Subject "\$JS\.API\.STREAM\.INFO\.ORCHESTRA_COMMANDS"/,
    ];
    const violations = nats.server
      .output()
      .split('\n')
      .filter((line) => /Violation/.test(line) && !expected.some((known) => known.test(line)));
    expect(violations).toEqual([]);
  });
});
