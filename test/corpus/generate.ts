/**
 * Builds the corpus cases that would be megabytes if checked in. Each is described by a small
 * checked-in descriptor: `{ "kind": ..., ...sizes }` (see README.md in this directory).
 */

const echoTask = (task_id: string, extra: Record<string, unknown> = {}) => ({
  task_id,
  assigned_plugin: 'builtin',
  entry_point: { type: 'function', value: 'echo' },
  ...extra,
});

const VALID_YAML = [
  'plan_id: corpus',
  'phases:',
  '  - phase_id: gather',
  '    tasks:',
  '      - task_id: fetch',
  '        assigned_plugin: builtin',
  '        entry_point: { type: function, value: echo }',
  '',
].join('\n');

export interface PlanGenerator {
  kind: 'padded' | 'tasks' | 'phases' | 'inputContext' | 'description' | 'nested' | 'brackets';
  bytes?: number;
  chars?: number;
  phases?: number;
  tasksPerPhase?: number;
  count?: number;
  levels?: number;
}

/** The text of a generated plan document, in the descriptor's format. */
export function generatePlanText(spec: PlanGenerator, format: 'yaml' | 'json'): string {
  switch (spec.kind) {
    case 'padded': {
      const bytes = need(spec.bytes);
      const head = `${VALID_YAML}# `;
      return `${head}${'x'.repeat(bytes - Buffer.byteLength(head) - 1)}\n`;
    }
    case 'tasks': {
      const phases = Array.from({ length: need(spec.phases) }, (_, p) => ({
        phase_id: `p${p}`,
        tasks: Array.from({ length: need(spec.tasksPerPhase) }, (_, t) => echoTask(`t${p}-${t}`)),
      }));
      return render({ plan_id: 'corpus', phases }, format);
    }
    case 'phases': {
      const phases = Array.from({ length: need(spec.count) }, (_, p) => ({
        phase_id: `p${p}`,
        tasks: [echoTask(`t${p}`)],
      }));
      return render({ plan_id: 'corpus', phases }, format);
    }
    case 'inputContext':
      return render(onePlan({ input_context: { blob: 'x'.repeat(need(spec.bytes)) } }), format);
    case 'description':
      return render(onePlan({ description: 'd'.repeat(need(spec.chars)) }), format);
    case 'nested':
      return nestedPlan(need(spec.levels), format);
    case 'brackets': {
      const levels = need(spec.levels);
      const value = `${'['.repeat(levels)}${']'.repeat(levels)}`;
      return format === 'json' ? `{"plan_id": "corpus", "x": ${value}}` : `plan_id: corpus\nx: ${value}\n`;
    }
    default: {
      const _exhaustive: never = spec.kind;
      throw new Error(`unknown plan generator ${String(_exhaustive)}`);
    }
  }
}

/** Values for `{ "$generate": { ... } }` placeholders inside message payloads. */
export interface ValueGenerator {
  kind: 'string' | 'nested' | 'echoTasks' | 'array';
  /** string: its length; array: how many copies of `item`. */
  length?: number;
  levels?: number;
  count?: number;
  item?: unknown;
}

export function generateValue(spec: ValueGenerator): unknown {
  switch (spec.kind) {
    case 'string':
      return 'x'.repeat(need(spec.length));
    case 'nested': {
      let value: unknown = 'leaf';
      for (let i = 0; i < need(spec.levels); i++) value = { a: value };
      return value;
    }
    case 'echoTasks':
      return Array.from({ length: need(spec.count) }, (_, t) => echoTask(`t${t}`));
    case 'array':
      return Array.from({ length: need(spec.length) }, () => spec.item ?? null);
    default: {
      const _exhaustive: never = spec.kind;
      throw new Error(`unknown value generator ${String(_exhaustive)}`);
    }
  }
}

/**
 * The JSON text of a value whose `{ "$generate": spec }` placeholders are replaced by generated
 * values. Written as text, so that a value nested deeper than JSON.stringify can follow is fine.
 */
export function renderWithPlaceholders(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderWithPlaceholders).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  if ('$generate' in record) {
    const spec = record.$generate as ValueGenerator;
    if (spec.kind !== 'nested') return JSON.stringify(generateValue(spec));
    const levels = need(spec.levels);
    return `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
  }
  const fields = Object.entries(record).map(
    ([key, item]) => `${JSON.stringify(key)}:${renderWithPlaceholders(item)}`,
  );
  return `{${fields.join(',')}}`;
}

function onePlan(extra: Record<string, unknown>) {
  return { plan_id: 'corpus', phases: [{ phase_id: 'gather', tasks: [echoTask('fetch', extra)] }] };
}

function nestedPlan(levels: number, format: 'yaml' | 'json'): string {
  if (format === 'json') {
    return JSON.stringify(onePlan({ input_context: generateValue({ kind: 'nested', levels }) }));
  }
  const lines = [VALID_YAML.trimEnd(), '        input_context:'];
  for (let level = 0; level < levels; level++) lines.push(`${' '.repeat(10 + 2 * level)}a:`);
  lines.push(`${' '.repeat(10 + 2 * levels)}leaf`);
  return `${lines.join('\n')}\n`;
}

function render(value: unknown, format: 'yaml' | 'json'): string {
  // JSON is valid YAML: a generated YAML document is written in flow style.
  return format === 'json' ? JSON.stringify(value) : `# generated\n${JSON.stringify(value)}\n`;
}

function need(value: number | undefined): number {
  if (value === undefined) throw new Error('generator descriptor is missing a size');
  return value;
}
