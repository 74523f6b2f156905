import { type DispatchTask, LIMITS } from '@orchestra/contracts';
import { compileSchema } from '../json-schema.js';
import { renderPrompt, SEED_PROMPT, schemaInstruction } from './prompt.js';
import { outputOfReply } from './reply.js';

const task: DispatchTask = {
  type: 'DispatchTask',
  execution_id: 'x1',
  plan_id: 'PLAN-1',
  phase_id: 'phase-2-analysis',
  task_id: 'task-2a',
  attempt_number: 2,
  plugin: 'finance@cowork',
  description: 'Analyze the financials',
  entry_point: { type: 'skill', value: 'analyze-financials' },
  input_context: { company: 'ACME', revenue: { '2023': 41.2, '2025': 57.3 }, note: 'use {description}' },
  output_key: 'financial_analysis',
  dispatched_at: 0,
  deadline_at: 1,
};

describe('the agent prompt', () => {
  it("is the seed's Step 3 template: four lines, the resolved input context as JSON", () => {
    expect(renderPrompt(SEED_PROMPT, task)).toBe(
      [
        'Execute: Analyze the financials',
        'Entry Point: skill - analyze-financials',
        'Input Context: {"company":"ACME","revenue":{"2023":41.2,"2025":57.3},"note":"use {description}"}',
        'Expected Output Key: financial_analysis',
      ].join('\n'),
    );
  });

  it('fills an override once: placeholders inside values stay as written, unknown ones are kept', () => {
    expect(
      renderPrompt('{task_id}#{attempt_number} of {plan_id}: {input_context} {unknown} {constructor}', task),
    ).toBe(
      'task-2a#2 of PLAN-1: {"company":"ACME","revenue":{"2023":41.2,"2025":57.3},"note":"use {description}"} {unknown} {constructor}',
    );
  });

  it('states a schema for servers that cannot be asked for it', () => {
    expect(schemaInstruction({ type: 'object' })).toBe(
      'Reply with a single JSON value and nothing else. It must match this JSON Schema:\n{"type":"object"}',
    );
  });
});

describe("a model's reply as the output", () => {
  const check = compileSchema({
    type: 'object',
    required: ['score'],
    properties: { score: { type: 'number' } },
  });
  const validate = check.ok ? check.validate : undefined;

  it('without a schema: a JSON object or array is the value, anything else is { text }', () => {
    expect(outputOfReply(' {"a": 1} ', undefined)).toEqual({ a: 1 });
    expect(outputOfReply('[1, 2]', undefined)).toEqual([1, 2]);
    expect(outputOfReply('```json\n{"a": 2}\n```', undefined)).toEqual({ a: 2 });
    expect(outputOfReply('42', undefined)).toEqual({ text: '42' });
    expect(outputOfReply('Looks fine.', undefined)).toEqual({ text: 'Looks fine.' });
  });

  it('with a schema: JSON matching it, or a failed attempt saying why', () => {
    expect(outputOfReply('{"score": 0.8}', validate)).toEqual({ score: 0.8 });
    expect(() => outputOfReply('{"score": "high"}', validate)).toThrow(
      expect.objectContaining({
        code: 'REPLY_SCHEMA_MISMATCH',
        message: expect.stringContaining('/score must be number'),
      }),
    );
    expect(() => outputOfReply('{"score": 0.8', validate)).toThrow(
      expect.objectContaining({ code: 'REPLY_NOT_JSON' }),
    );
  });

  it('refuses an empty reply and one over the output limit', () => {
    expect(() => outputOfReply('  \n', undefined)).toThrow(expect.objectContaining({ code: 'EMPTY_REPLY' }));
    expect(() => outputOfReply('y'.repeat(LIMITS.outputBytes + 1), undefined)).toThrow(
      expect.objectContaining({ code: 'OUTPUT_TOO_LARGE' }),
    );
  });
});
