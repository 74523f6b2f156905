import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import { listWorkers, noopLogger, unservedPlugins } from '@orchestra/bus';
import { OrchestraClient } from '@orchestra/client';
import { Buckets, Streams } from '@orchestra/contracts';
import { InProcessSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { leastPrivilegePlan as plan, sleepPlan } from './plans.js';
import {
  failure,
  orchestraWith,
  ROLES,
  type Role,
  type SecureNats,
  startSecureNats,
  violationOf,
} from './secure-nats.js';

/**
 * deploy/nats/orchestra-auth.conf: every service runs as its own user with the least privilege
 * it needs, the whole system still works, and what a user may not do is refused by the server.
 */

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('least-privilege users (deploy/nats/orchestra-auth.conf)', () => {
  let nats: SecureNats;
  let system: InProcessSystem;
  let client: OrchestraClient;
  let admin: NatsConnection;
  let jsm: JetStreamManager;

  /** A further connection of `role`, with the async errors the server sends it. */
  const connectAs = async (role: Role) => {
    const nc = await system.connect(role);
    const statuses: Status[] = [];
    void (async () => {
      for await (const status of nc.status()) statuses.push(status);
    })();
    const violations = () =>
      statuses
        .flatMap((s) => (s.type === 'error' ? [violationOf(s.error)] : []))
        .filter((v) => v !== undefined);
    return { nc, js: jetstream(nc), violations };
  };

  const violations = () =>
    nats.server
      .output()
      .split('\n')
      .filter((line) => /Violation/.test(line));

  beforeAll(async () => {
    nats = await startSecureNats();
    const connections = Object.fromEntries(ROLES.map((role) => [role, nats.options(role)]));
    // Streams and bucket are created on the admin's connection, each service on its own user.
    system = await new InProcessSystem(nats.server, noopLogger, { connections }).start();
    client = await OrchestraClient.using(system.client);
    admin = await system.connect('admin');
    jsm = await jetstreamManager(admin);
  });

  afterAll(async () => {
    await system?.stop();
    await nats?.stop();
  });

  it('runs a plan larger than one message through the payloads bucket with no permission refused', async () => {
    // ExecutePlan, ExecutionStarted and the results go through the object store (README, "Large values").
    const tasks = Array.from({ length: 3_000 }, (_, i) => ({
      task_id: `t${i}`,
      assigned_plugin: 'builtin',
      entry_point: { type: 'function', value: 'echo' },
      input_context: { i, pad: 'x'.repeat(300) },
    }));
    const wide = { plan_id: 'lp-wide', phases: [{ phase_id: 'p', tasks }] };
    await client.execute(wide, 'lp-wide');
    const results = await client.waitForResults('lp-wide', 120_000);
    expect(results.summary.successful).toBe(3_000);
    expect((await client.replay('lp-wide')).matches).toBe(true);
    expect(violations()).toEqual([]);
  }, 180_000);

  it('runs plans to completion, cancels, rejects and dead-letters with no permission refused', async () => {
    const seen: string[] = [];
    const watching = (async () => {
      for await (const { event } of client.watch('lp-1')) seen.push(event.type);
    })();
    await client.execute(plan, 'lp-1');
    const results = await client.waitForResults('lp-1', 30_000);
    await watching;
    expect(results).toMatchObject({ status: 'completed' });
    expect(seen.at(-1)).toBe('ExecutionFinished');
    expect(await client.status('lp-1')).toMatchObject({ state: 'completed' });
    expect((await client.replay('lp-1')).matches).toBe(true);

    // Request/reply through both services' users, and the orchestrator storing a command.
    expect(await client.request('execute', { plan, execution_id: 'lp-2' })).toEqual({
      execution_id: 'lp-2',
      duplicate: false,
    });
    expect(await client.waitForResults('lp-2', 30_000)).toMatchObject({ status: 'completed' });
    expect(await client.request('status', { execution_id: 'lp-2' })).toMatchObject({ state: 'completed' });
    expect(await client.request('results', { execution_id: 'lp-1' })).toMatchObject({ status: 'completed' });
    const listing = await client.request<{ executions: Array<{ execution_id: string }> }>('list', {});
    expect(listing.executions.map((e) => e.execution_id)).toEqual(expect.arrayContaining(['lp-1', 'lp-2']));
    expect((await client.list()).map((r) => r.execution_id)).toEqual(
      expect.arrayContaining(['lp-1', 'lp-2']),
    );

    // A cancel reaches the dispatcher as a notice; an invalid plan is rejected by the orchestrator.
    await client.execute(sleepPlan, 'lp-cancel');
    await waitForEvent(client, 'lp-cancel', 'TaskDispatched');
    await client.request('cancel', { execution_id: 'lp-cancel' });
    expect(await client.waitForResults('lp-cancel', 30_000)).toMatchObject({ status: 'cancelled' });
    await client.submit({ plan_id: 'bad', phases: [] }, 'lp-rejected');
    expect(await client.waitForResults('lp-rejected', 30_000)).toMatchObject({ status: 'rejected' });

    // A message that is not JSON is dead-lettered by the orchestrator under its own user, and the
    // client reads the dead letters.
    await jetstream(system.client).publish('orchestra.cmd.execute', new TextEncoder().encode('not json'));
    const letters = await waitFor(
      async () => {
        const found = await client.deadLetters({ source: 'commands' });
        return found.length > 0 ? found : undefined;
      },
      { what: 'a dead letter of the commands' },
    );
    expect(letters[0]).toMatchObject({ source: 'commands', reason: expect.stringMatching(/not JSON/) });
    expect(await client.deadLetters()).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'commands' })]),
    );

    expect(violations()).toEqual([]);
  });

  it('lets the client run orchestra doctor, verify and export (docs/audit.md) with no permission refused', async () => {
    const before = violations().length;
    await client.execute(sleepPlan, 'lp-doctor');
    await waitForEvent(client, 'lp-doctor', 'TaskDispatched');
    const cwd = mkdtempSync(join(tmpdir(), 'orchestra-lp-doctor-'));
    try {
      const doctor = await orchestraWith(['doctor', '--json'], nats.env('client'), cwd);
      expect(doctor.stderr).toBe('');
      expect(JSON.parse(doctor.stdout)).toMatchObject({ healthy: true, stuck: [], missing_consumers: [] });
      expect(JSON.parse(doctor.stdout).running).toBeGreaterThanOrEqual(1);
      const verify = await orchestraWith(['verify', 'lp-1', '--chain-only'], nats.env('client'), cwd);
      expect(verify.code).toBe(0);
      const exported = await orchestraWith(['export', 'lp-1'], nats.env('client'), cwd);
      expect(exported.stdout.split('\n')[0]).toContain('"format":"orchestra-audit"');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      await client.request('cancel', { execution_id: 'lp-doctor' });
    }
    expect(violations().slice(before)).toEqual([]);
  });

  it('lets the dispatcher announce its plugins, the client list and probe them, the orchestrator warn', async () => {
    const workers = await listWorkers(system.client);
    expect(workers.map((worker) => [worker.plugin, worker.kind])).toEqual([['builtin', 'builtin']]);
    expect(await unservedPlugins(system.client, ['builtin', 'nobody@x'])).toEqual(['nobody@x']);
    const unservedPlan = {
      plan_id: 'lp-unserved',
      phases: [
        {
          phase_id: 'p',
          tasks: [
            {
              task_id: 't',
              assigned_plugin: 'nobody@x',
              entry_point: { type: 'skill', value: 'x' },
              timeout_ms: 200,
            },
          ],
        },
      ],
    };
    const reply = await client.request<{ warnings?: string[] }>('execute', {
      plan: unservedPlan,
      execution_id: 'lp-unserved',
    });
    expect(reply.warnings).toEqual([
      'no live worker serves plugin nobody@x: its tasks wait for one to start, or time out',
    ]);
    expect(violations()).toEqual([]);
  });

  it('lets the orchestrator move a message that exhausted its deliveries to the dead letters, never delete an event', async () => {
    // A consumer whose one delivery is never acknowledged: the server announces the exhausted
    // message and the orchestrator's keeper reads it, records it and takes it out of the queue.
    await jsm.consumers.add(Streams.tasks, {
      durable_name: 'exhaust-probe',
      filter_subject: 'orchestra.tasks.exhaust',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 1_000_000_000,
      max_deliver: 1,
    });
    const orchestrator = await connectAs('orchestrator');
    const { seq } = await orchestrator.js.publish('orchestra.tasks.exhaust', encode({ never: 'acked' }));
    const consumer = await jetstream(admin).consumers.get(Streams.tasks, 'exhaust-probe');
    expect((await consumer.next({ expires: 5_000 }))?.seq).toBe(seq);
    // After the ack wait, the next pull finds the message out of deliveries: the server's advisory.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await consumer.next({ expires: 1_000 })).toBeNull();
    const letter = await waitFor(
      async () => (await client.deadLetters({ source: 'tasks' })).find((l) => l.consumer === 'exhaust-probe'),
      { what: 'the dead letter of the exhausted task' },
    );
    expect(letter).toMatchObject({
      stream: Streams.tasks,
      stream_seq: seq,
      subject: 'orchestra.tasks.exhaust',
    });
    await waitFor(async () => (await jsm.streams.getMessage(Streams.tasks, { seq })) === null, {
      what: 'the exhausted task out of its queue',
    });
    // The same right on the event log is refused: events are never deleted.
    const ojsm = await jetstreamManager(orchestrator.nc);
    const last = await jsm.streams.getMessage(Streams.events, { last_by_subj: 'orchestra.events.lp-1' });
    const lastSeq = last?.seq ?? 1;
    expect(violationOf(await failure(ojsm.streams.deleteMessage(Streams.events, lastSeq)))).toMatchObject({
      subject: '$JS.API.STREAM.MSG.DELETE.ORCHESTRA_EVENTS',
    });
    expect(await jsm.streams.getMessage(Streams.events, { seq: lastSeq })).not.toBeNull();
  });

  it('refuses the dispatcher an event append: a permissions violation, and nothing is stored', async () => {
    const dispatcher = await connectAs('dispatcher');
    const forged = { type: 'ExecutionFinished', execution_id: 'forged' };
    const error = await failure(dispatcher.js.publish('orchestra.events.forged', encode(forged)));
    expect(violationOf(error)).toMatchObject({ operation: 'publish', subject: 'orchestra.events.forged' });
    // A core publish has no reply: the refusal arrives as an async error on the connection.
    dispatcher.nc.publish('orchestra.events.forged', encode(forged));
    await dispatcher.nc.flush();
    await waitFor(() => dispatcher.violations().length >= 2, { what: 'the async permissions error' });
    expect(dispatcher.violations()).toEqual([
      expect.objectContaining({ operation: 'publish', subject: 'orchestra.events.forged' }),
      expect.objectContaining({ operation: 'publish', subject: 'orchestra.events.forged' }),
    ]);
    expect(
      await jsm.streams.getMessage(Streams.events, { last_by_subj: 'orchestra.events.forged' }),
    ).toBeNull();
    expect(violations()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Publish Violation - User "dispatcher", Subject "orchestra.events.forged"/),
      ]),
    );
    // Nor may it dispatch tasks, write results or manage streams.
    for (const subject of [
      'orchestra.tasks.builtin',
      '$KV.orchestra_results.lp-1',
      'orchestra.cmd.execute',
    ]) {
      expect(violationOf(await failure(dispatcher.js.publish(subject, encode({}))))).toMatchObject({
        subject,
      });
    }
    expect(
      violationOf(await failure((await jetstreamManager(dispatcher.nc)).streams.delete(Streams.tasks))),
    ).toMatchObject({
      subject: `$JS.API.STREAM.DELETE.${Streams.tasks}`,
    });
  });

  it("refuses the dispatcher another plugin's queue: no info, no pull, no consumer of its own, no subscription", async () => {
    await jsm.consumers.add(Streams.tasks, {
      durable_name: 'dispatch-other',
      filter_subject: 'orchestra.tasks.other',
      ack_policy: AckPolicy.Explicit,
    });
    const orchestrator = await connectAs('orchestrator');
    await orchestrator.js.publish('orchestra.tasks.other', encode({ secret: 'for plugin other only' }));

    const dispatcher = await connectAs('dispatcher');
    expect(
      violationOf(await failure(dispatcher.js.consumers.get(Streams.tasks, 'dispatch-other'))),
    ).toMatchObject({
      operation: 'publish',
      subject: '$JS.API.CONSUMER.INFO.ORCHESTRA_TASKS.dispatch-other',
    });
    const pull = dispatcher.nc.request(
      '$JS.API.CONSUMER.MSG.NEXT.ORCHESTRA_TASKS.dispatch-other',
      encode({ batch: 1 }),
    );
    expect(violationOf(await failure(pull))).toMatchObject({
      subject: '$JS.API.CONSUMER.MSG.NEXT.ORCHESTRA_TASKS.dispatch-other',
    });
    // Its own consumer name with another filter, or a consumer of its own making, is refused too.
    const djsm = await jetstreamManager(dispatcher.nc);
    for (const [name, filter] of [
      ['dispatch-builtin', 'orchestra.tasks.other'],
      ['sneaky', 'orchestra.tasks.other'],
    ] as const) {
      const error = await failure(
        djsm.consumers.add(Streams.tasks, {
          name,
          durable_name: name,
          filter_subject: filter,
          ack_policy: AckPolicy.Explicit,
        }),
      );
      expect(violationOf(error)).toMatchObject({
        subject: `$JS.API.CONSUMER.CREATE.ORCHESTRA_TASKS.${name}.${filter}`,
      });
    }
    const sub = dispatcher.nc.subscribe('orchestra.tasks.other');
    const closed = await sub.closed;
    expect(violationOf(closed)).toMatchObject({
      operation: 'subscription',
      subject: 'orchestra.tasks.other',
    });

    const info = await jsm.consumers.info(Streams.tasks, 'dispatch-other');
    expect(info).toMatchObject({ num_pending: 1, num_ack_pending: 0, delivered: { consumer_seq: 0 } });
  });

  it("refuses the client events, tasks, results writes, stream management and other users' inboxes", async () => {
    const c = await connectAs('client');
    for (const subject of [
      'orchestra.events.lp-1',
      'orchestra.tasks.builtin',
      'orchestra.outcomes.lp-1',
      'orchestra.timers.lp-1',
    ]) {
      expect(violationOf(await failure(c.js.publish(subject, encode({}))))).toMatchObject({
        operation: 'publish',
        subject,
      });
    }
    const kv = await new Kvm(c.js).open(Buckets.results);
    expect(violationOf(await failure(kv.put('lp-1', encode({ status: 'completed' }))))).toMatchObject({
      subject: '$KV.orchestra_results.lp-1',
    });
    expect(await client.results('lp-1')).toMatchObject({ status: 'completed' });
    // The services' durable consumers on the events are not the client's to drain or delete.
    const cjsm = await jetstreamManager(c.nc);
    for (const durable of ['results', 'orchestrator-effects']) {
      const subject = `$JS.API.CONSUMER.MSG.NEXT.ORCHESTRA_EVENTS.${durable}`;
      expect(violationOf(await failure(c.nc.request(subject, encode({ batch: 1 }))))).toMatchObject({
        subject,
      });
      expect(violationOf(await failure(cjsm.consumers.delete(Streams.events, durable)))).toMatchObject({
        subject: `$JS.API.CONSUMER.DELETE.ORCHESTRA_EVENTS.${durable}`,
      });
    }
    expect(violationOf(await failure(cjsm.streams.purge(Streams.events)))).toBeDefined();
    // Replies and pulled messages of the services travel on their own inbox prefixes.
    for (const prefix of ['_INBOX_dispatcher.>', '_INBOX_orchestrator.>', '_INBOX_results.>', '>']) {
      const closed = await c.nc.subscribe(prefix).closed;
      expect(violationOf(closed)).toMatchObject({ operation: 'subscription', subject: prefix });
    }
  });

  it('refuses the results service the command stream', async () => {
    const results = await connectAs('results');
    const before = (await jsm.streams.info(Streams.commands)).state.last_seq;
    const command = { type: 'ExecutePlan', plan, execution_id: 'lp-by-results' };
    const error = await failure(
      results.js.publish('orchestra.cmd.execute', encode(command), { msgID: 'lp-by-results' }),
    );
    expect(violationOf(error)).toMatchObject({ operation: 'publish', subject: 'orchestra.cmd.execute' });
    expect((await jsm.streams.info(Streams.commands)).state.last_seq).toBe(before);
    expect(await client.results('lp-by-results')).toBeNull();
  });

  it('a request cannot make a service publish on the reply subject it names', async () => {
    const c = await connectAs('client');
    const dispatcher = await connectAs('dispatcher');
    const notices: string[] = [];
    dispatcher.nc.subscribe('orchestra.control.cancel.>', {
      callback: (_e, msg) => {
        notices.push(msg.subject);
      },
    });
    await dispatcher.nc.flush();
    c.nc.publish('orchestra.api.status', encode({ execution_id: 'lp-1' }), {
      reply: 'orchestra.control.cancel.lp-1',
    });
    c.nc.publish('orchestra.api.list', encode({}), { reply: '$KV.orchestra_results.lp-1' });
    // Answered in order after the crafted ones: once these replies are in, those were handled.
    await client.request('status', { execution_id: 'lp-1' });
    await client.request('list', {});
    await dispatcher.nc.flush();
    expect(notices).toEqual([]);
    expect(await client.results('lp-1')).toMatchObject({ execution_id: 'lp-1', status: 'completed' });
  });
});

async function waitForEvent(client: OrchestraClient, executionId: string, type: string): Promise<void> {
  await waitFor(async () => (await client.events(executionId)).some((e) => e.event.type === type), {
    what: `${type} of ${executionId}`,
  });
}
