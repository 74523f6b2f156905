import { join } from 'node:path';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { claimIfLarge, DeadLetterRecord, readEvents } from '@orchestra/bus';
import { type DeadLetterSource, type ExecutionEvent, type Issue, Streams } from '@orchestra/contracts';
import { categoryOf, type ExpectedIssue, listCases, MESSAGES_DIR, readJson } from './corpus.js';
import { renderWithPlaceholders } from './generate.js';

/** One file of `messages/`: a message as it is published, and what must become of it. */
export interface MessageCase {
  file: string;
  category: string;
  description: string;
  subject: string;
  /** A JSON value, with `{ "$generate": ... }` placeholders. */
  payload?: unknown;
  /** Exact bytes: UTF-8 text, or base64. */
  raw?: string;
  base64?: string;
  expect: Expectation;
}

export type Expectation =
  | {
      deadLetter: {
        source: DeadLetterSource;
        reason: string;
        issue?: ExpectedIssue;
        /** A malformed outcome that names its attempt also fails that attempt (MALFORMED_OUTCOME). */
        failsAttempt?: { execution_id: string; task_id: string; attempt_number: number };
      };
    }
  | {
      event: {
        /** `$cmd`: the id the orchestrator derives for a command without one (`cmd-<seq>`). */
        execution_id: string;
        type: ExecutionEvent['type'];
        task_id?: string;
        attempt_number?: number;
        reason?: string;
        issue?: ExpectedIssue;
      };
    }
  | {
      ignored: {
        execution_id: string;
        noEvents?: boolean;
        /** A task a dispatcher ran for a missing execution: its outcome is dead-lettered. */
        outcomeDeadLettered?: boolean;
      };
    }
  | { reply: { code: string; message: string; issue?: ExpectedIssue } }
  | { publishError: string }
  | { noEffect: string };

/** What publishing a case gave: where it was stored, the reply, or the publish error. */
export interface Sent {
  stream?: string;
  seq?: number;
  reply?: { error?: { code: string; message: string; issues: Issue[] } };
  error?: string;
}

export function loadMessageCases(): MessageCase[] {
  return listCases(MESSAGES_DIR, /\.json$/).map((file) => ({
    file,
    category: categoryOf(file),
    ...readJson<Omit<MessageCase, 'file' | 'category'>>(join(MESSAGES_DIR, file)),
  }));
}

export function bytesOf(c: MessageCase): Uint8Array {
  if (c.base64 !== undefined) return Buffer.from(c.base64, 'base64');
  if (c.raw !== undefined) return new TextEncoder().encode(c.raw);
  return new TextEncoder().encode(renderWithPlaceholders(c.payload));
}

/** Publishes one case the way its subject is used: a request, a core-NATS notice, or a stored message. */
export async function send(nc: NatsConnection, js: JetStreamClient, c: MessageCase): Promise<Sent> {
  const data = bytesOf(c);
  try {
    if (c.subject.startsWith('orchestra.api.')) {
      const reply = await nc.request(c.subject, data, { timeout: 10_000 });
      return { reply: reply.json() };
    }
    if (c.subject.startsWith('orchestra.control.')) {
      nc.publish(c.subject, data);
      await nc.flush();
      return {};
    }
    // Larger than one message: sent as Orchestra's own publishers send it, through the payloads
    // bucket (README, "Large values"), so that the value itself reaches the services' checks.
    const claim = await claimIfLarge(js, data, c.subject, `the message on ${c.subject}`);
    const ack = await js.publish(c.subject, claim.data);
    return { stream: ack.stream, seq: ack.seq };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** Every record of ORCHESTRA_DLQ, by the stream and sequence of the message it records. */
export async function deadLetters(jsm: JetStreamManager): Promise<Map<string, DeadLetterRecord>> {
  const records = new Map<string, DeadLetterRecord>();
  const info = await jsm.streams.info(Streams.deadLetters);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(Streams.deadLetters, { seq });
    if (!msg) continue;
    const record = DeadLetterRecord.parse(msg.json());
    records.set(`${record.stream}:${record.stream_seq}`, record);
  }
  return records;
}

/** The first issue of a dead letter as a failure message quotes it. */
function reasonIssue(letter: DeadLetterRecord): string {
  const [issue] = letter.issues;
  return issue ? `${issue.path}: ${issue.message}` : '';
}

export function hasIssue(issues: readonly Issue[], expected: ExpectedIssue): boolean {
  return issues.some((issue) => issue.path === expected.path && issue.message.includes(expected.message));
}

const WORK_QUEUES = new Set<string>([Streams.commands, Streams.tasks, Streams.outcomes, Streams.timers]);

/** Throws with what was found instead when a case was not handled as its file says. */
export async function verify(
  jsm: JetStreamManager,
  c: MessageCase,
  sent: Sent,
  letters: Map<string, DeadLetterRecord>,
): Promise<void> {
  function fail(what: string, found: unknown): never {
    throw new Error(`${c.file}: ${what}; found ${JSON.stringify(found, null, 1).slice(0, 1500)}`);
  }
  const expect = c.expect;
  if ('publishError' in expect) {
    if (!sent.error?.includes(expect.publishError))
      fail(`publish must fail with "${expect.publishError}"`, sent);
    return;
  }
  if (sent.error !== undefined) fail('publish failed', sent.error);
  if ('noEffect' in expect) return;
  if ('reply' in expect) {
    const error = sent.reply?.error;
    const { code, message, issue } = expect.reply;
    if (
      error?.code !== code ||
      !error.message.includes(message) ||
      (issue && !hasIssue(error.issues, issue))
    ) {
      fail(`reply must be ${code} "${message}"${issue ? ` with ${JSON.stringify(issue)}` : ''}`, sent.reply);
    }
    return;
  }
  const letter = letters.get(`${sent.stream}:${sent.seq}`);
  if ('deadLetter' in expect) {
    const { source, reason, issue } = expect.deadLetter;
    if (!letter) fail('no dead letter recorded', sent);
    if (
      letter.source !== source ||
      !letter.reason.includes(reason) ||
      (issue && !hasIssue(letter.issues, issue))
    ) {
      fail(
        `dead letter must be on ${source} with "${reason}"${issue ? ` and ${JSON.stringify(issue)}` : ''}`,
        letter,
      );
    }
    if (letter.delivery_count !== 1)
      fail('a rejected message must be terminated on its first delivery', letter);
    const failed = expect.deadLetter.failsAttempt;
    if (failed) {
      const { events } = await readEvents(jsm, failed.execution_id);
      const failure = events.find(
        ({ event }) =>
          event.type === 'TaskFailed' &&
          event.task_id === failed.task_id &&
          event.attempt_number === failed.attempt_number,
      )?.event;
      if (
        failure?.type !== 'TaskFailed' ||
        failure.code !== 'MALFORMED_OUTCOME' ||
        !failure.error.includes(reasonIssue(letter))
      )
        fail(
          `attempt ${failed.attempt_number} of ${failed.task_id} must have failed as MALFORMED_OUTCOME`,
          failure ?? events.map((e) => e.event),
        );
    }
    return;
  }
  if (letter) fail('dead-lettered, but the case expects it to be handled', letter);
  if ('event' in expect) {
    const { execution_id, type, task_id, attempt_number, reason, issue } = expect.event;
    const id = execution_id === '$cmd' ? `cmd-${sent.seq}` : execution_id;
    const { events } = await readEvents(jsm, id);
    const found = events.some(({ event }) => {
      if (event.type !== type) return false;
      const fields = event as unknown as Record<string, unknown>;
      if (task_id !== undefined && fields.task_id !== task_id) return false;
      if (attempt_number !== undefined && fields.attempt_number !== attempt_number) return false;
      if (reason !== undefined && !String(fields.reason).includes(reason)) return false;
      return issue === undefined || hasIssue((fields.issues as Issue[]) ?? [], issue);
    });
    if (!found)
      fail(
        `no ${type} event on ${id} as expected`,
        events.map((e) => e.event),
      );
    return;
  }
  const { execution_id, noEvents, outcomeDeadLettered } = expect.ignored;
  if (outcomeDeadLettered) {
    const reason = `outcome for unknown execution "${execution_id}"`;
    const outcome = [...letters.values()].find(
      (record) => record.source === 'outcomes' && record.reason === reason,
    );
    if (!outcome)
      fail(
        `the outcome must be dead-lettered with "${reason}"`,
        [...letters.values()].map((r) => r.reason),
      );
  }
  if (sent.stream && WORK_QUEUES.has(sent.stream)) {
    const left = await jsm.streams.getMessage(sent.stream, { seq: sent.seq as number }).catch(() => null);
    if (left) fail(`must have been processed and removed from ${sent.stream}`, sent);
  }
  if (noEvents) {
    const read = await readEvents(jsm, execution_id);
    if (read.events.length > 0 || read.invalid.length > 0)
      fail(`no event may exist for ${execution_id}`, read);
  }
}
