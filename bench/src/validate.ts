/**
 * Scenario R's validation step alone, in one process and without a server: the records of the
 * template execution (100 events of a 48-task plan, decided by the real decider, one record per
 * decision) JSON-decoded `rounds` times, then validated as the replay does, the results kept:
 * every record through `EventRecord.safeParse` (what readEvents does) and, separately, every event
 * through `ExecutionEvent.safeParse`. Repeated; prints the median and best rate in events/s by
 * wall clock and by this process's CPU time (steadier when other work shares the machine), and
 * with PER_TYPE=1 the CPU time per event type.
 *
 *   node bench/dist/validate.js [rounds=1000] [repeats=7]
 *   node --cpu-prof --cpu-prof-dir=prof bench/dist/validate.js 3000 3   # where the time goes
 */
import { EventRecord, ExecutionEvent } from '@orchestra/contracts';
import { templateRecords } from './scenarios/replay.js';

const rounds = Number(process.argv[2] ?? 1_000);
const repeats = Number(process.argv[3] ?? 7);
const records = templateRecords().map((record) => JSON.stringify(record));
const events = templateRecords()
  .flat()
  .map((event) => JSON.stringify(event));

interface Timing {
  events: number;
  wallMs: number;
  cpuMs: number;
}

/** Validates every decoded value with `schema`, keeping the results; counts the events. */
function validateAll(
  schema: { safeParse(value: unknown): { success: boolean; data?: unknown } },
  decoded: unknown[],
): Timing {
  const kept: unknown[] = [];
  let count = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const json of decoded) {
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error('invalid template event');
    kept.push(parsed.data);
    count += Array.isArray(parsed.data) ? parsed.data.length : 1;
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { events: count, wallMs, cpuMs: (used.user + used.system) / 1000 };
}

function decode(texts: string[], copies: number, keep: (json: unknown) => boolean = () => true): unknown[] {
  const decoded: unknown[] = [];
  for (let r = 0; r < copies; r++)
    for (const text of texts) {
      const json = JSON.parse(text) as unknown;
      if (keep(json)) decoded.push(json);
    }
  return decoded;
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

function measure(name: string, schema: Parameters<typeof validateAll>[0], texts: string[]): void {
  validateAll(schema, decode(texts, Math.max(1, Math.floor(rounds / 10)))); // warm up
  const timings = Array.from({ length: repeats }, () => validateAll(schema, decode(texts, rounds)));
  const wall = timings.map((t) => rate(t.events, t.wallMs));
  const cpu = timings.map((t) => rate(t.events, t.cpuMs));
  console.log(
    `${name}: ${timings[0]?.events} events x ${repeats}: ${median(wall)} events/s median by wall clock ` +
      `(best ${Math.max(...wall)}), ${median(cpu)} by CPU time (best ${Math.max(...cpu)})`,
  );
}

measure('EventRecord.safeParse per record', EventRecord, records);
measure('ExecutionEvent.safeParse per event', ExecutionEvent, events);

if (process.env.PER_TYPE) {
  const typeOf = (json: unknown) => (json as { type: string }).type;
  for (const type of new Set(events.map((text) => typeOf(JSON.parse(text))))) {
    const perExecution = events.filter((text) => typeOf(JSON.parse(text)) === type).length;
    const copies = Math.max(1, Math.floor(rounds / perExecution));
    const cpuMs = Array.from(
      { length: repeats },
      () =>
        validateAll(
          ExecutionEvent,
          decode(events, copies, (json) => typeOf(json) === type),
        ).cpuMs,
    );
    const micros = (Math.min(...cpuMs) * 1000) / copies;
    console.log(
      `  ${type.padEnd(18)} x${String(perExecution).padStart(2)}: ${micros.toFixed(1)} µs of CPU per execution`,
    );
  }
}
