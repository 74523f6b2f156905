import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { OrchestraClient } from '@orchestra/client';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { faultPlan } from '../faults/plans.js';
import { ServiceProcess } from '../support/cli.js';
import { rssMiB, type SoakSample, soakSvg, soakTable } from './sample.js';

/**
 * The soak run (`npm run test:soak -- --minutes N`, docs/reliability.md "Soak"): a mixed load —
 * the fault suite's plans, and every minute a plan too large for one message (its events and
 * results go through the object store) — against nats-server and the three services as separate
 * processes, with a short retention (SOAK_RETENTION, default 5m) so that it applies within the
 * run, and the orchestrator's and results service's caches of SOAK_CACHE executions (default
 * theirs, 10,000; ORCHESTRA_CACHED_EXECUTIONS) so that they fill within it. Every SOAK_SAMPLE_S seconds it samples the RSS of every process and the size of every
 * stream and bucket; the table and an SVG go to .test-results/. Memory must be flat once the
 * retention applies: the last third's RSS stays within 25 % of the middle third's, and the stores
 * stop growing.
 */
const minutes = Number(process.env.SOAK_MINUTES ?? 3);
const retention = process.env.SOAK_RETENTION ?? '5m';
const cache = process.env.SOAK_CACHE;
const sampleEveryMs = Number(process.env.SOAK_SAMPLE_S ?? 30) * 1000;
const WIDE_TASKS = 3_000;

const described = `${minutes} min, retention ${retention}${cache ? `, caches of ${cache} executions` : ''}`;

describe(`soak (${described})`, () => {
  let server: NatsServerHandle;
  const services: Record<string, ServiceProcess> = {};

  afterAll(async () => {
    for (const service of Object.values(services)) await service.stop();
    await server?.stop();
  });

  it('keeps memory flat and the stores bounded under a steady mixed load', async () => {
    server = await startNatsServer();
    const env = {
      ORCHESTRA_EVENTS_MAX_AGE: retention,
      ORCHESTRA_RESULTS_MAX_AGE: retention,
      ORCHESTRA_PAYLOADS_MAX_AGE: retention,
      ORCHESTRA_DEAD_LETTERS_MAX_AGE: retention,
      ...(cache ? { ORCHESTRA_CACHED_EXECUTIONS: cache } : {}),
    };
    for (const role of ['orchestrator', 'dispatcher', 'results']) {
      services[role] = await ServiceProcess.start(role, server.url, env);
    }
    const client = await OrchestraClient.connect({ servers: [server.url], env: {} });
    const jsm = await jetstreamManager(client.nc);
    const started = Date.now();
    const until = started + minutes * 60_000;
    let executions = 0;
    const load = (async () => {
      for (let n = 0; Date.now() < until; n++) {
        const plan = n % 300 === 299 ? wide(n) : faultPlan(n).plan;
        await client.execute(plan, `soak-${n}`).then(
          () => executions++,
          () => undefined,
        );
        await sleep(200);
      }
    })();

    const samples: SoakSample[] = [];
    const sample = async () => {
      const stores: Record<string, number> = {};
      for await (const info of jsm.streams.list()) stores[info.config.name] = info.state.bytes;
      const rss: Record<string, number> = {
        'nats-server': rssMiB(server.pid),
        'test (client)': rssMiB(process.pid),
      };
      for (const [role, service] of Object.entries(services)) rss[role] = rssMiB(service.pid);
      samples.push({ minute: (Date.now() - started) / 60_000, rss, stores, executions });
      console.log(soakTable(samples.slice(-1)).split('\n').slice(-1)[0]);
    };
    while (Date.now() < until) {
      await sample();
      await sleep(Math.min(sampleEveryMs, Math.max(0, until - Date.now())));
    }
    await load;
    await sample();
    await client.close();

    mkdirSync('.test-results', { recursive: true });
    writeFileSync('.test-results/soak.json', JSON.stringify(samples, null, 2));
    writeFileSync('.test-results/soak.svg', soakSvg(samples));
    writeFileSync('.test-results/soak.md', `${soakTable(samples)}\n`);
    console.log(`soak, ${described}\n${soakTable(samples)}`);

    // Flat once retention applies: compare the last third with the middle third.
    const third = Math.floor(samples.length / 3);
    // Too short a run (fewer than 6 samples) proves nothing: say so rather than pass.
    expect(third).toBeGreaterThanOrEqual(2);
    const middle = samples.slice(third, 2 * third);
    const last = samples.slice(2 * third);
    const peak = (list: SoakSample[], pick: (s: SoakSample) => number) => Math.max(...list.map(pick));
    for (const role of Object.keys(services)) {
      expect(peak(last, (s) => s.rss[role] ?? 0)).toBeLessThan(
        1.25 * peak(middle, (s) => s.rss[role] ?? 0) + 32,
      );
    }
    const events = (s: SoakSample) => s.stores.ORCHESTRA_EVENTS ?? 0;
    expect(peak(last, events)).toBeLessThan(1.5 * peak(middle, events) + 8 * 1024 * 1024);
  });
});

/** A plan whose ExecutionStarted is larger than one message: its records go through the object store. */
function wide(n: number) {
  return {
    plan_id: `soak-wide-${n}`,
    phases: [
      {
        phase_id: 'p',
        tasks: Array.from({ length: WIDE_TASKS }, (_, i) => ({
          task_id: `t${i}`,
          assigned_plugin: 'builtin',
          entry_point: { type: 'function', value: 'echo' },
          input_context: { i, pad: 'x'.repeat(200) },
        })),
      },
    ],
  };
}
