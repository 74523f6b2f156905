import { setTimeout as sleep } from 'node:timers/promises';
import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { ServiceProcess } from '../support/cli.js';
import { failuresOf, SIGNING_KEY, startLoad, VERIFY_KEY, verifyAll } from './run.js';
import { type Fault, type FaultSettings, faultOrder, LONG, SHORT, seededRandom } from './schedule.js';
import { type Tally, table, verifyLog } from './verify.js';

/**
 * Invariant 5 (docs/architecture.md, "Invariants") under fire: many executions of mixed plans
 * while a seeded schedule kill -9s the orchestrators, dispatchers and the results service and
 * kills and restarts nats-server. Two orchestrators and two dispatchers run at once throughout.
 * FAULTS=long for the long form, FAULTS_SEED to replay a schedule.
 */
const settings: FaultSettings = {
  ...(process.env.FAULTS === 'long' ? LONG : SHORT),
  seed: Number(process.env.FAULTS_SEED ?? Date.now() % 100_000),
};

type Role = 'orchestrator' | 'dispatcher' | 'results';
const REPLICAS: Record<Role, number> = { orchestrator: 2, dispatcher: 2, results: 1 };
const serviceEnv = { ORCHESTRA_SIGNING_KEY: SIGNING_KEY };

describe(`fault suite (${process.env.FAULTS === 'long' ? 'long' : 'short'}, seed ${settings.seed})`, () => {
  let server: NatsServerHandle;
  const processes: Record<Role, ServiceProcess[]> = { orchestrator: [], dispatcher: [], results: [] };

  afterAll(async () => {
    for (const list of Object.values(processes)) for (const service of list) await service.kill();
    await server?.stop();
  });

  it('loses nothing, counts nothing twice and ends every execution as a run without faults would', async () => {
    server = await startNatsServer();
    for (const role of Object.keys(REPLICAS) as Role[]) {
      for (let i = 0; i < REPLICAS[role]; i++)
        processes[role].push(await ServiceProcess.start(role, server.url, serviceEnv));
    }
    const client = await OrchestraClient.connect({ servers: [server.url], env: {} });
    const random = seededRandom(settings.seed);
    const tally: Tally = {
      executions: 0,
      kills: { orchestrator: 0, dispatcher: 0, results: 0 },
      serverRestarts: 0,
      verdicts: [],
    };
    // Executions keep arriving for as long as faults are injected, so every fault hits runs in flight.
    const load = startLoad(client, `fault-${settings.seed}`, settings.executions, settings.submitPauseMs);

    for (const fault of faultOrder(settings, random)) {
      await sleep(settings.pauseMs[0] + random() * (settings.pauseMs[1] - settings.pauseMs[0]));
      await inject(fault, random);
      if (fault === 'nats-server') tally.serverRestarts = (tally.serverRestarts ?? 0) + 1;
      else tally.kills[fault] = (tally.kills[fault] ?? 0) + 1;
    }
    await load.finish();
    tally.executions = load.accepted.size;
    tally.verdicts = await verifyAll(client, load.accepted, async (id, verdict) => {
      verdict.chainProblem = await verifyLog(server.url, id, VERIFY_KEY);
    });
    await client.close();
    console.log(`fault suite, seed ${settings.seed}\n${table(tally)}`);
    expect(failuresOf(tally.verdicts)).toEqual([]);
    expect(tally.executions).toBeGreaterThanOrEqual(settings.executions);
  });

  /** kill -9 one replica of a role and start a new one; or kill -9 nats-server and restart it. */
  async function inject(fault: Fault, random: () => number): Promise<void> {
    if (fault === 'nats-server') {
      await server.kill();
      await sleep(random() * 500);
      await server.restart();
      return;
    }
    const list = processes[fault];
    const index = Math.floor(random() * list.length);
    await list[index]?.kill();
    await sleep(random() * 300);
    list[index] = await ServiceProcess.start(fault, server.url, serviceEnv);
  }
});
