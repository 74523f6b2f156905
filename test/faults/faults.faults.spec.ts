import { setTimeout as sleep } from 'node:timers/promises';
import { createUser } from '@nats-io/nkeys';
import { signerFromKey } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { ServiceProcess } from '../support/cli.js';
import { type FaultPlan, faultPlan } from './plans.js';
import { type Fault, type FaultSettings, faultOrder, LONG, SHORT, seededRandom } from './schedule.js';
import { readExecution, type Tally, table, verifyExecution, verifyLog } from './verify.js';

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
/** Every orchestrator signs with this key, so `orchestra verify` checks each record's signature too. */
const SIGNING_KEY = new TextDecoder().decode(createUser().getSeed());
const VERIFY_KEY = signerFromKey(SIGNING_KEY).keyId;
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
    const accepted = new Map<string, FaultPlan>();

    // Executions keep arriving for as long as faults are injected, so every fault hits runs in flight.
    let injecting = true;
    const submitter = (async () => {
      for (let n = 0; injecting || n < settings.executions; n++) {
        const plan = faultPlan(n);
        const id = `fault-${settings.seed}-${n}`;
        await submitUntilStored(client, plan, id);
        accepted.set(id, plan);
        await sleep(settings.submitPauseMs);
      }
    })();

    for (const fault of faultOrder(settings, random)) {
      await sleep(settings.pauseMs[0] + random() * (settings.pauseMs[1] - settings.pauseMs[0]));
      await inject(fault, random);
      if (fault === 'nats-server') tally.serverRestarts++;
      else tally.kills[fault] = (tally.kills[fault] ?? 0) + 1;
    }
    injecting = false;
    await submitter;
    tally.executions = accepted.size;

    for (const [id, plan] of accepted) {
      await client.waitForResults(id, 180_000).catch(() => undefined);
      const { events, stored } = await readExecution(client, id);
      const verdict = verifyExecution(id, events, stored, plan.expected);
      verdict.chainProblem = await verifyLog(server.url, id, VERIFY_KEY);
      tally.verdicts.push(verdict);
    }
    await client.close();
    console.log(`fault suite, seed ${settings.seed}\n${table(tally)}`);
    const failures = tally.verdicts.filter(
      (v) =>
        v.lost ||
        v.unfinished ||
        v.doubleCounted.length ||
        v.replayMismatch ||
        v.mismatches.length ||
        v.chainProblem !== null,
    );
    const forced = tally.verdicts.flatMap((v) => v.killForced);
    if (forced.length > 0)
      console.log(
        `differences a kill forced (an attempt on a served plugin timed out):\n${forced.join('\n')}`,
      );
    if (failures.length > 0) console.log(`failures:\n${JSON.stringify(failures, null, 2)}`);
    expect(failures).toEqual([]);
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

/** Publishes until the server acknowledges: only then is the command accepted (and counted). */
async function submitUntilStored(client: OrchestraClient, plan: FaultPlan, id: string): Promise<void> {
  for (;;) {
    try {
      await client.execute(plan.plan, id);
      return;
    } catch {
      await sleep(200);
    }
  }
}
