import { z } from 'zod';
import { CancelExecution, ExecutePlan, RepairExecution, RerunExecution } from './commands.js';
import { ExecutionEventContract } from './events.js';
import { Plan } from './plan.js';
import { EventRecord } from './record.js';
import { ExecutionResults } from './results.js';
import { CancelNotice, DispatchTask, TaskOutcome } from './tasks.js';

/**
 * JSON Schemas of every message a worker or client in another language touches, generated from
 * the zod contracts (`npm run schemas` writes them to `schemas/`; a unit test fails when a file
 * differs from what this returns). They describe what the contract *accepts* (zod's input side):
 * a field with a default may be left out. Rules a JSON Schema cannot state (byte limits, nesting
 * depth, the subject a message came on, a plan's graph) are listed in docs/workers.md.
 */
export interface JsonSchemaFile {
  /** Path under `schemas/`. */
  file: string;
  title: string;
  /** Where the message travels, and who writes it. */
  subject: string;
  direction: 'worker receives' | 'worker sends' | 'client sends' | 'client reads';
  schema: Record<string, unknown>;
}

/** `$id` of every file: a name, not an address (nothing is served there). */
export const JSON_SCHEMA_ID_PREFIX = 'urn:orchestra:schema:';

interface Source {
  file: string;
  title: string;
  subject: string;
  direction: JsonSchemaFile['direction'];
  description: string;
  zod: z.ZodType;
}

const EVENTS_SUBJECT = 'orchestra.events.<execution_id>';

function sources(): Source[] {
  const events: Source[] = ExecutionEventContract.options.map((event) => {
    const type = (event.shape.type as z.ZodLiteral<string>).value;
    return {
      file: `events/${type}.schema.json`,
      title: type,
      subject: EVENTS_SUBJECT,
      direction: 'client reads',
      description: `The ${type} event, one element of an event record.`,
      zod: event,
    };
  });
  return [
    {
      file: 'execute-plan.schema.json',
      title: 'ExecutePlan',
      subject: 'orchestra.cmd.execute',
      direction: 'client sends',
      description:
        'Starts an execution. Publish with JetStream and the header Nats-Msg-Id = execution_id. ' +
        '`plan` is any JSON value here: an invalid plan is answered with an ExecutionRejected event ' +
        'naming every issue (plan.schema.json is the shape it must have).',
      zod: ExecutePlan,
    },
    {
      file: 'cancel-execution.schema.json',
      title: 'CancelExecution',
      subject: 'orchestra.cmd.cancel',
      direction: 'client sends',
      description: 'Cancels a running execution. Publish with JetStream.',
      zod: CancelExecution,
    },
    {
      file: 'rerun-execution.schema.json',
      title: 'RerunExecution',
      subject: 'orchestra.cmd.rerun',
      direction: 'client sends',
      description:
        'Starts a new execution that re-runs a finished one: tasks that succeeded there and are not ' +
        'named in `tasks` (`phase_id.task_id`) are reused, the rest and their dependants run again. ' +
        'Publish with JetStream and Nats-Msg-Id = execution_id; orchestra.api.rerun checks it first.',
      zod: RerunExecution,
    },
    {
      file: 'repair-execution.schema.json',
      title: 'RepairExecution',
      subject: 'orchestra.cmd.repair',
      direction: 'client sends',
      description:
        "Publishes again what a running execution's log implies for `tasks` (all in flight when none): " +
        'what `orchestra doctor --repair` sends for a lost dispatch or timer. Publish with JetStream; ' +
        'orchestra.api.repair checks the execution first.',
      zod: RepairExecution,
    },
    {
      file: 'plan.schema.json',
      title: 'Plan',
      subject: 'inside ExecutePlan.plan',
      direction: 'client sends',
      description:
        'A plan as written by a user (fields with a default may be left out). Ids must also be unique, ' +
        'dependencies known and acyclic, references must name tasks certain to finish first: ' +
        'see docs/workers.md for the rules only the orchestrator checks.',
      zod: Plan,
    },
    {
      file: 'dispatch-task.schema.json',
      title: 'DispatchTask',
      subject: 'orchestra.tasks.<plugin>',
      direction: 'worker receives',
      description:
        'One attempt of one task, for a worker of the plugin. Times are epoch milliseconds; ' +
        'input_context has every reference resolved.',
      zod: DispatchTask,
    },
    {
      file: 'task-outcome.schema.json',
      title: 'TaskOutcome',
      subject: 'orchestra.outcomes.<execution_id>',
      direction: 'worker sends',
      description:
        'A worker’s answer to one DispatchTask. Publish with JetStream and the header ' +
        'Nats-Msg-Id = <execution_id>:<task_id>:<attempt_number>:outcome. finished_at is epoch ms; ' +
        'no other keys are allowed.',
      zod: TaskOutcome,
    },
    {
      file: 'cancel-notice.schema.json',
      title: 'CancelNotice',
      subject: 'orchestra.control.cancel.<execution_id>',
      direction: 'worker receives',
      description:
        'Core NATS, not stored: the execution was cancelled or aborted. Abort its running attempts ' +
        'and send no outcome for them. The subject names the execution; the payload repeats it.',
      zod: CancelNotice,
    },
    {
      file: 'event-record.schema.json',
      title: 'EventRecord',
      subject: EVENTS_SUBJECT,
      direction: 'client reads',
      description: 'One stored message on an execution’s subject: the events of one decision, in order.',
      zod: EventRecord,
    },
    {
      file: 'execution-event.schema.json',
      title: 'ExecutionEvent',
      subject: EVENTS_SUBJECT,
      direction: 'client reads',
      description: 'Any one event of an execution (an element of an event record), by its `type`.',
      zod: ExecutionEventContract,
    },
    ...events,
    {
      file: 'execution-results.schema.json',
      title: 'ExecutionResults',
      subject: 'KV bucket orchestra_results, key = execution_id',
      direction: 'client reads',
      description:
        'The execution_results of one execution, rewritten as it runs. Task statuses are the ' +
        "seed's (`success`, `failed`, `skipped`, `timeout`), not the outcome's `succeeded`.",
      zod: ExecutionResults,
    },
  ];
}

/** Every schema file, in the order of the index. */
export function jsonSchemaFiles(): JsonSchemaFile[] {
  return sources().map(({ zod, description, ...source }) => {
    const { $schema, ...generated } = z.toJSONSchema(zod, {
      io: 'input',
      target: 'draft-2020-12',
      unrepresentable: 'throw',
      override: requireWhatZodRequires,
    });
    const schema = {
      $schema,
      $id: `${JSON_SCHEMA_ID_PREFIX}${source.file.replace(/\.schema\.json$/, '').replace('/', ':')}`,
      title: source.title,
      description: `${description} Subject: ${source.subject}.`,
      ...generated,
    };
    return { ...source, schema };
  });
}

/**
 * zod's input schema lists a key as required only when its schema cannot be absent by type;
 * `z.unknown()` with a refinement (the plan of ExecutePlan, an output, a JSON value) can be, yet
 * the contract refuses it when missing. A key is required here exactly when zod refuses the
 * object without it.
 */
function requireWhatZodRequires(ctx: {
  zodSchema: z.core.$ZodTypes;
  jsonSchema: z.core.JSONSchema.BaseSchema;
}) {
  const def = ctx.zodSchema._zod.def;
  if (def.type !== 'object') return;
  const shape = (def as z.core.$ZodObjectDef).shape as Record<string, z.ZodType>;
  const listed = new Set(ctx.jsonSchema.required ?? []);
  const required = Object.keys(shape).filter(
    (key) => listed.has(key) || !shape[key]?.safeParse(undefined).success,
  );
  if (required.length > 0) ctx.jsonSchema.required = required;
}

/** `schemas/README.md`: the index of the files, generated with them. */
export function jsonSchemaIndex(files: readonly JsonSchemaFile[] = jsonSchemaFiles()): string {
  const rows = files.map(
    ({ file, schema, subject, direction }) =>
      `| [${file}](${file}) | \`${String(schema.$id)}\` | ${/\s/.test(subject) ? subject : `\`${subject}\``} | ${direction} |`,
  );
  return [
    '# JSON Schemas of the bus contract',
    '',
    'Generated from the zod contracts in `libs/contracts` by `npm run schemas`; do not edit them by hand',
    '(a unit test fails when a file differs from zod). JSON Schema draft 2020-12, one self-contained',
    'file per message: they describe what Orchestra accepts, so a field with a default may be left out.',
    'The rules a schema cannot state (byte limits, nesting depth, the subject a message came on, a',
    "plan's graph and references) and the whole worker protocol are in [docs/workers.md](../docs/workers.md).",
    '',
    '| file | `$id` | subject | direction |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
