import { request as httpRequest } from 'node:http';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { noopLogger, readEvents } from '@orchestra/bus';
import { type RunningConsole, startConsole } from '@orchestra/console';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';
import { partialPlan, retryThenFallbackPlan, slowPlan } from './plans.js';
import { readSse, type SseEvent } from './sse.js';

const TOKEN = 'console-test-token-0123456789';
const bearer = { Authorization: `Bearer ${TOKEN}` };

const sequentialPlan = (plan_id: string, ms: number) => ({
  plan_id,
  phases: [
    {
      phase_id: 'steps',
      execution_mode: 'sequential',
      tasks: ['one', 'two', 'three', 'four'].map((task_id) => ({
        task_id,
        assigned_plugin: 'builtin',
        entry_point: { type: 'function', value: 'sleep' },
        input_context: { ms },
      })),
    },
  ],
});

const records = (events: SseEvent[]) => events.filter((e) => e.event === 'record');
const finished = (events: SseEvent[]) =>
  events.some((e) => e.event === 'record' && e.data.includes('"ExecutionFinished"'));

/** The console's server against a real nats-server and the three services, over HTTP. */
describe('the console server', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let console: RunningConsole;
  let base: string;

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server).start();
    console = await startConsole({
      connection: await system.connect('client'),
      logger: noopLogger,
      port: 0,
      token: TOKEN,
    });
    base = `http://127.0.0.1:${console.port}`;
  });
  afterAll(async () => {
    await console?.close();
    await system?.stop();
    await server?.stop();
  });

  describe('safe by default', () => {
    it('refuses a request without the token, and answers probes without it', async () => {
      const refused = await fetch(`${base}/api/executions`);
      expect(refused.status).toBe(401);
      expect((await refused.json()).error.code).toBe('UNAUTHORIZED');
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(401);
      expect(await page.text()).toMatch(/^Orchestra console: sign in/);
      expect(
        (await fetch(`${base}/api/session`, { headers: { Authorization: 'Bearer wrong' } })).status,
      ).toBe(401);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/api/session`, { headers: bearer })).status).toBe(200);
    });

    it('trades ?token= on a page load for an HttpOnly session cookie and drops it from the address', async () => {
      const response = await fetch(`${base}/executions/x-1?tab=history&token=${TOKEN}`, {
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/executions/x-1?tab=history');
      const cookie = response.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(
        /^orchestra_console_session=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+$/,
      );
      const page = await fetch(`${base}/executions/x-1`, {
        headers: { Cookie: cookie.split(';')[0] as string },
      });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      // Signed in already, the token still leaves the address.
      const again = await fetch(`${base}/?token=${TOKEN}`, {
        headers: { Cookie: cookie.split(';')[0] as string },
        redirect: 'manual',
      });
      expect([again.status, again.headers.get('location')]).toEqual([303, '/']);
    });

    it('answers only to a loopback Host name when it listens on loopback', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          `${base}/health/live`,
          { headers: { Host: 'attacker.example:80' } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(421);
    });

    it('takes an action from a page only with its CSRF token, from its own origin, as JSON', async () => {
      await system.execute(slowPlan('csrf', 20_000), 'csrf-1');
      const login = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const session = await (await fetch(`${base}/api/session`, { headers: { Cookie: cookie } })).json();
      const cancel = (headers: Record<string, string>, body = '{}') =>
        fetch(`${base}/api/executions/csrf-1/cancel`, {
          method: 'POST',
          headers: { Cookie: cookie, ...headers },
          body,
        });
      const json = { 'Content-Type': 'application/json' };
      expect((await cancel(json)).status).toBe(403);
      expect((await cancel({ ...json, 'X-CSRF-Token': 'forged' })).status).toBe(403);
      expect(
        (await cancel({ ...json, 'X-CSRF-Token': session.csrf_token, Origin: 'http://attacker.example' }))
          .status,
      ).toBe(403);
      const form = {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-CSRF-Token': session.csrf_token,
      };
      expect((await cancel(form, 'reason=x')).status).toBe(403);
      const accepted = await cancel(
        { ...json, 'X-CSRF-Token': session.csrf_token, Origin: base },
        '{"reason":"test"}',
      );
      expect(accepted.status).toBe(202);
      expect(await accepted.json()).toEqual({
        execution_id: 'csrf-1',
        cli: "npx orchestra cancel csrf-1 --reason 'test'",
      });
      expect((await system.finalResults('csrf-1')).status).toBe('cancelled');
    });
  });

  describe('event streams', () => {
    it('sends the history then live events, and resumes after Last-Event-ID with no gap and no repeat', async () => {
      const url = `${base}/api/executions/seq-1/events`;
      // Opened before the execution exists: caught up at once, then everything live.
      const whole = readSse(url, bearer, finished);
      await system.execute(sequentialPlan('resume', 150), 'seq-1');
      const live = await whole;
      expect(live[0]).toEqual({ event: 'caught-up', data: '{"seq":0}' });
      const seqs = records(live).map((e) => Number(e.id));
      const stored = await readEvents(await jetstreamManager(system.client), 'seq-1');
      expect(seqs).toEqual([...new Set(stored.events.map((e) => e.seq))]);

      // A browser that saw up to the third record reconnects with its id.
      const from = seqs[2] as number;
      const resumed = await readSse(url, { ...bearer, 'Last-Event-ID': String(from) }, finished);
      expect(records(resumed).map((e) => Number(e.id))).toEqual(seqs.filter((seq) => seq > from));
      expect(resumed.find((e) => e.event === 'caught-up')?.data).toBe(`{"seq":${seqs[seqs.length - 1]}}`);
    });

    it('joins a history read half-way through a run to its live end', async () => {
      await system.execute(sequentialPlan('half-way', 300), 'seq-2');
      const url = `${base}/api/executions/seq-2/events`;
      const first = await readSse(url, bearer, (events) => records(events).length >= 3);
      const last = records(first).at(-1)?.id as string;
      const rest = await readSse(url, { ...bearer, 'Last-Event-ID': last }, finished);
      const all = [...records(first), ...records(rest)].map((e) => Number(e.id));
      const stored = await readEvents(await jetstreamManager(system.client), 'seq-2');
      expect(all).toEqual([...new Set(stored.events.map((e) => e.seq))]);
    });

    it('streams changes of the list after the revision of the page the browser has', async () => {
      const page = await (await fetch(`${base}/api/executions?limit=1`, { headers: bearer })).json();
      const changes = readSse(`${base}/api/executions/changes?after=${page.revision}`, bearer, (events) =>
        events.some((e) => e.data.includes('"execution_id":"listed-1"') && e.data.includes('"completed"')),
      );
      await system.execute(retryThenFallbackPlan, 'listed-1');
      const seen = await changes;
      expect(seen.every((e) => e.event === 'changes' && Number(e.id) > page.revision)).toBe(true);
    });
  });

  describe('the executions list', () => {
    it('filters by status, plan, plugin and text, newest first, with a cursor', async () => {
      await system.execute(slowPlan('list-a', 10), 'list-a1');
      await system.execute(slowPlan('list-a', 10), 'list-a2');
      await system.finalResults('list-a2');
      await system.finalResults('list-a1');
      const get = async (query: string) =>
        (await fetch(`${base}/api/executions?${query}`, { headers: bearer })).json();
      const byPlan = await get('plan=list-a&status=completed&plugin=builtin&limit=1');
      expect(byPlan.total).toBe(2);
      expect(byPlan.items).toHaveLength(1);
      const older = await get(`plan=list-a&limit=1&before=${encodeURIComponent(byPlan.next)}`);
      expect([byPlan.items[0].execution_id, older.items[0].execution_id].sort()).toEqual([
        'list-a1',
        'list-a2',
      ]);
      expect(older.next).toBeNull();
      expect((await get('q=LIST-A2')).items.map((r: { execution_id: string }) => r.execution_id)).toEqual([
        'list-a2',
      ]);
      expect((await get('status=running,bogus')).error.issues[0].path).toMatch(/^status/);
      const facets = await (await fetch(`${base}/api/facets`, { headers: bearer })).json();
      expect(facets.plans).toContain('list-a');
      expect(facets.plugins).toContain('builtin');
    });
  });

  describe('actions', () => {
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...bearer, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('validates a pasted plan with the paths of its problems, and submits a valid one', async () => {
      const invalid =
        'plan_id: bad\nphases:\n  - phase_id: p\n    tasks:\n      - task_id: t\n        retries: -1\n';
      const checked = await (await post('/api/plans/validate', { text: invalid })).json();
      expect(checked.ok).toBe(false);
      expect(checked.issues.map((i: { path: string }) => i.path)).toEqual(
        expect.arrayContaining(['phases[0].tasks[0].retries', 'phases[0].tasks[0].assigned_plugin']),
      );
      const refused = await post('/api/plans', { text: invalid });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error.issues.length).toBeGreaterThan(0);

      const valid = JSON.stringify(slowPlan('pasted', 10));
      expect(await (await post('/api/plans/validate', { text: valid })).json()).toEqual({
        ok: true,
        issues: [],
        plan: { plan_id: 'pasted', phases: 1, tasks: 2 },
      });
      const submitted = await post('/api/plans', { text: valid, execution_id: 'pasted-1' });
      expect(submitted.status).toBe(202);
      expect(await submitted.json()).toEqual({
        execution_id: 'pasted-1',
        duplicate: false,
        cli: 'npx orchestra run plan.yaml --id pasted-1',
      });
      expect((await system.finalResults('pasted-1')).status).toBe('completed');
    });

    it('re-runs from failure through orchestra.api.rerun, reusing what succeeded', async () => {
      await system.execute(partialPlan, 'source-1');
      expect((await system.finalResults('source-1')).status).toBe('partial');
      const rerun = await post('/api/executions/source-1/rerun', { execution_id: 'rerun-1' });
      expect(rerun.status).toBe(202);
      const reply = await rerun.json();
      expect(reply).toMatchObject({ execution_id: 'rerun-1', rerun_of: 'source-1', duplicate: false });
      // ok-last follows uses-failed in its sequential phase, but needs only ok-first's output.
      expect(reply.reused).toEqual(['gather.ok-first', 'use.ok-last']);
      expect(reply.run_again.map((r: { task: string }) => r.task).sort()).toEqual([
        'gather.fails',
        'use.uses-failed',
      ]);
      expect(reply.cli).toBe('npx orchestra rerun source-1 --id rerun-1');
      expect((await system.finalResults('rerun-1')).status).toBe('partial');
      const refused = await post('/api/executions/source-1/rerun', { tasks: ['gather.nobody'] });
      expect(refused.status).toBe(400);
      expect((await refused.json()).error.issues.length).toBeGreaterThan(0);
      expect((await post('/api/executions/source-1/rerun', { tasks: ['no-dot'] })).status).toBe(400);
    });

    it("says where the chain of an execution's records breaks when a record is slipped in", async () => {
      await system.execute(slowPlan('tampered', 10), 'tamper-1');
      await system.finalResults('tamper-1');
      // A valid event record, appended without the chain's headers: as someone with write access
      // to the stream but not to the orchestrator could.
      const forged = [{ type: 'PhaseStarted', execution_id: 'tamper-1', at: Date.now(), phase_id: 'work' }];
      const ack = await jetstream(system.client).publish('orchestra.events.tamper-1', JSON.stringify(forged));
      const replay = await (
        await fetch(`${base}/api/executions/tamper-1/replay`, { headers: bearer })
      ).json();
      expect(replay.chain.ok).toBe(false);
      expect(replay.chain.first_problem).toMatchObject({ seq: ack.seq });
      expect(replay.chain.first_problem.problem).toMatch(/no hash/);
    });

    it('checks a replay against the stored results, and says when an execution does not exist', async () => {
      await system.finalResults('listed-1');
      const replay = await (
        await fetch(`${base}/api/executions/listed-1/replay`, { headers: bearer })
      ).json();
      expect(replay).toMatchObject({
        execution_id: 'listed-1',
        matches: true,
        stored: true,
        differences: [],
      });
      expect(replay.chain).toMatchObject({ ok: true, ends_with_finish: true, signatures_checked: false });
      expect(replay.chain.records).toBeGreaterThan(1);
      expect((await fetch(`${base}/api/executions/nobody/replay`, { headers: bearer })).status).toBe(404);
      expect((await post('/api/executions/nobody/cancel', {})).status).toBe(404);
      expect((await fetch(`${base}/api/executions/not.an.id/replay`, { headers: bearer })).status).toBe(400);
    });
  });
});
