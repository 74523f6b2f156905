import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  type DeadLetterRecord,
  noopLogger,
  publishJson,
  type RunningService,
  readEvents,
} from '@orchestra/bus';
import { type ExecutionResults, type PlanInput, Streams, Subjects, Timer } from '@orchestra/contracts';
import { startDispatcher } from '@orchestra/dispatcher';
import { type NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { InProcessSystem } from '../support/system.js';
import { waitFor } from '../support/wait.js';
import { countByCategory } from './corpus.js';
import { deadLetters, loadMessageCases, type MessageCase, type Sent, send, verify } from './messages.js';
import { loadOutputCases, outputPlugin, outputsPlan } from './outputs.js';
import { consumersSettled, durableConsumers, storedMessages } from './settle.js';

/**
 * The bad-message corpus against a real nats-server and the three services: each message gets
 * its documented answer (dead letter, rejection, ignored outcome, reply, publish error), nothing
 * is redelivered, and executions running meanwhile finish exactly as they would have.
 */
const HOLDER = 'corpus-holder';
const GOOD_BEFORE = 'corpus-good-before';
const echo = (task_id: string, input_context: Record<string, unknown>) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'echo' },
  input_context,
  timeout_ms: 2_000,
});
const goodPlan: PlanInput = {
  plan_id: 'corpus-good',
  phases: [
    { phase_id: 'one', tasks: [echo('first', { x: 41 })] },
    { phase_id: 'two', depends_on_phases: ['one'], tasks: [echo('second', { y: '${one.first.output.x}' })] },
  ],
};
const sleeper = (task_id: string) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'sleep' },
  input_context: { ms: 600_000 },
  timeout_ms: 60_000,
});
/**
 * The tasks malformed outcomes name (`failsAttempt` cases): each such outcome fails its own
 * victim's attempt, while `hold` keeps the execution running for the other cases.
 */
const VICTIMS = ['victim-1', 'victim-2', 'victim-3', 'victim-4'];
/** Runs (sleeps) until cancelled, so that outcomes and timers can target a live execution. */
const holderPlan: PlanInput = {
  plan_id: 'corpus-holder',
  phases: [
    { phase_id: 'hold-phase', tasks: [sleeper('hold'), ...VICTIMS.map(sleeper)] },
    { phase_id: 'later-phase', depends_on_phases: ['hold-phase'], tasks: [echo('later', {})] },
  ],
};
const withoutTimes = (results: ExecutionResults) => ({
  status: results.status,
  summary: results.summary,
  phases: results.phases.map((phase) => ({
    phase_id: phase.phase_id,
    status: phase.status,
    tasks: phase.tasks.map(({ task_id, status, output, attempt_number }) => ({
      task_id,
      status,
      output,
      attempt_number,
    })),
  })),
});

const cases = loadMessageCases();
const sent = new Map<string, Sent>();

describe('the bad-message corpus on a real nats-server', () => {
  let server: NatsServerHandle;
  let system: InProcessSystem;
  let outputsDispatcher: RunningService | undefined;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let letters: Map<string, DeadLetterRecord>;
  let goodBefore: ExecutionResults;
  let goodBeforeEvents: number;

  beforeAll(async () => {
    server = await startNatsServer();
    system = await new InProcessSystem(server, noopLogger).start();
    outputsDispatcher = await startDispatcher({
      connection: await system.connect(),
      logger: noopLogger,
      plugins: [outputPlugin(loadOutputCases())],
      provision: false,
    });
    js = jetstream(system.client);
    jsm = await jetstreamManager(system.client);

    await system.execute(goodPlan, GOOD_BEFORE);
    goodBefore = await system.finalResults(GOOD_BEFORE);
    goodBeforeEvents = (await readEvents(jsm, GOOD_BEFORE)).events.length;
    await system.execute(holderPlan, HOLDER);
    await waitFor(
      async () => (await readEvents(jsm, HOLDER)).events.some((e) => e.event.type === 'TaskDispatched'),
      { what: 'the holder to dispatch its tasks' },
    );

    for (const c of cases) sent.set(c.file, await send(system.client, js, c));
    // Held meanwhile: the holder's running task, and timers that are not due yet.
    const held = { 'dispatch-builtin': 1 + VICTIMS.length, 'orchestrator-timers': Number.POSITIVE_INFINITY };
    await waitFor(() => consumersSettled(jsm, held), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'every consumer to process the corpus',
    });
    letters = await deadLetters(jsm);
  }, 120_000);

  afterAll(async () => {
    await outputsDispatcher?.stop();
    await system?.stop();
    await server?.stop();
  });

  it('holds at least 60 cases in the categories the bus consumes', () => {
    const counts = countByCategory(cases.map((c) => c.file));
    expect(cases.length).toBeGreaterThanOrEqual(60);
    for (const category of ['execute', 'cancel', 'outcome', 'timer', 'task', 'event', 'api', 'control']) {
      expect(counts[category]).toBeGreaterThan(0);
    }
  });

  it.each(cases.map((c) => [c.file, c] as [string, MessageCase]))('%s', async (_file, c) => {
    await verify(jsm, c, sent.get(c.file) as Sent, letters);
  });

  it('records nothing in the dead-letter stream but the corpus cases that expect it', () => {
    const expected = cases.filter(
      (c) => 'deadLetter' in c.expect || ('ignored' in c.expect && c.expect.ignored.outcomeDeadLettered),
    ).length;
    expect(letters.size).toBe(expected);
  });

  it('fails the attempts of a plugin whose outputs break the limits, with the reason', async () => {
    const outputCases = loadOutputCases();
    await system.execute(outputsPlan(outputCases), 'corpus-outputs');
    const results = await system.finalResults('corpus-outputs');
    expect(results.status).toBe('partial');
    const tasks = results.phases.flatMap((phase) => phase.tasks);
    expect(tasks.find((task) => task.task_id === 'fine')).toMatchObject({ status: 'success' });
    for (const c of outputCases) {
      const task = tasks.find((t) => t.task_id === c.task_id);
      expect({ case: c.file, status: task?.status }).toEqual({ case: c.file, status: 'skipped' });
      expect({ case: c.file, error: task?.error }).toEqual({
        case: c.file,
        error: expect.stringContaining(c.expect.error),
      });
    }
  });

  it('left the execution the corpus targeted running as it was, until it is cancelled', async () => {
    const { events } = await readEvents(jsm, HOLDER);
    const types = events.map((e) => e.event.type);
    expect(types.filter((type) => type === 'TaskDispatched')).toHaveLength(1 + VICTIMS.length);
    expect(types).not.toContain('ExecutionCancelled');
    // The outcome events in the log: the victims' failures (malformed outcomes naming them), and
    // the forged one for a task the plan does not have (event--task-not-in-plan), which every
    // fold ignores.
    const outcomes = events.filter((e) =>
      ['TaskSucceeded', 'TaskFailed', 'TaskTimedOut'].includes(e.event.type),
    );
    expect(outcomes.map((e) => ('task_id' in e.event ? e.event.task_id : null)).sort()).toEqual(
      ['ghost', ...VICTIMS].sort(),
    );
    const ignoredCases = cases.filter((c) => 'event' in c.expect && c.expect.event.type === 'OutcomeIgnored');
    expect(types.filter((type) => type === 'OutcomeIgnored')).toHaveLength(ignoredCases.length);

    await publishJson(js, Subjects.cancelCommand, { type: 'CancelExecution', execution_id: HOLDER });
    const results = await system.finalResults(HOLDER);
    expect(results.status).toBe('cancelled');
    const tasks = results.phases.flatMap((phase) => phase.tasks);
    expect(tasks.map((task) => [task.task_id, task.status])).toEqual([
      ['hold', 'skipped'],
      ...VICTIMS.map((victim) => [victim, 'skipped']),
      ['later', 'skipped'],
    ]);
    for (const victim of tasks.filter((task) => VICTIMS.includes(task.task_id)))
      expect(victim.error).toMatch(/^malformed outcome \(/);
  });

  it('left the execution that ran before untouched, and runs a good one after exactly like it', async () => {
    expect(await system.results(GOOD_BEFORE)).toEqual(goodBefore);
    expect((await readEvents(jsm, GOOD_BEFORE)).events).toHaveLength(goodBeforeEvents);
    await system.execute(goodPlan, 'corpus-good-after');
    const after = await system.finalResults('corpus-good-after');
    expect(withoutTimes(after)).toEqual(withoutTimes(goodBefore));
    expect(goodBefore.status).toBe('completed');
  });

  it('ends with nothing pending, awaiting an ack or being redelivered on any consumer', async () => {
    // A timer is held (nak-ed) until it is due: the cancelled holder's deadline may still be.
    await waitFor(() => consumersSettled(jsm, { 'orchestrator-timers': Number.POSITIVE_INFINITY }), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'every consumer to settle',
    });
    // Held: deadlines of the attempts this test ran, not due yet; never a message of the corpus.
    const ours = new Set([HOLDER, 'corpus-outputs', 'corpus-good-after']);
    const heldTimers = (await storedMessages(jsm, Streams.timers)).map((value) => Timer.parse(value));
    for (const timer of heldTimers) {
      expect({ ours: ours.has(timer.execution_id), kind: timer.kind }).toEqual({
        ours: true,
        kind: 'deadline',
      });
      expect(timer.due_at).toBeGreaterThan(Date.now());
    }
    const consumers = await durableConsumers(jsm);
    expect(consumers.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'dispatch-builtin',
        'dispatch-corpus-output',
        'orchestrator-cancel',
        'orchestrator-execute',
        'orchestrator-outcomes',
        'orchestrator-timers',
        'results',
      ]),
    );
    for (const info of consumers) {
      const held = info.name === 'orchestrator-timers' ? heldTimers.length : 0;
      expect({ name: info.name, redelivered: info.num_redelivered, pending: info.num_ack_pending }).toEqual({
        name: info.name,
        redelivered: 0,
        pending: held,
      });
    }
    // Work queues keep only what is not processed yet: nothing but that timer.
    for (const stream of [Streams.commands, Streams.tasks, Streams.outcomes, Streams.timers]) {
      const expected = stream === Streams.timers ? heldTimers.length : 0;
      expect({ stream, messages: (await jsm.streams.info(stream)).state.messages }).toEqual({
        stream,
        messages: expected,
      });
    }
  });
});
