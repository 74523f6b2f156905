import { formatPath, OrchestraError, ValidationError } from './errors.js';
import { findCycle, reachable } from './graph.js';
import { Buckets, executionIdOf, MessageIds, Streams, Subjects } from './subjects.js';

const BAD_TOKENS = ['a.b', 'a*', '*', '>', 'a>', 'a b', ' a', 'a\n', '', 'a:b'];

describe('Subjects', () => {
  it('builds the documented subjects', () => {
    expect(Subjects.executeCommand).toBe('orchestra.cmd.execute');
    expect(Subjects.cancelCommand).toBe('orchestra.cmd.cancel');
    expect(Subjects.allEvents).toBe('orchestra.events.>');
    expect(Subjects.events('exec-1')).toBe('orchestra.events.exec-1');
    expect(Subjects.outcomes('exec_1')).toBe('orchestra.outcomes.exec_1');
    expect(Subjects.timers('E1')).toBe('orchestra.timers.E1');
    expect(Subjects.cancelNotice('e1')).toBe('orchestra.control.cancel.e1');
    expect(Subjects.tasks('finance@cowork')).toBe('orchestra.tasks.finance@cowork');
    expect(Subjects.tasks('builtin')).toBe('orchestra.tasks.builtin');
    expect(Subjects.api('execute')).toBe('orchestra.api.execute');
    expect(Subjects.deadLetters('tasks')).toBe('orchestra.dlq.tasks');
  });

  it.each(BAD_TOKENS)('refuses the execution id %j in every per-execution subject', (id) => {
    for (const build of [Subjects.events, Subjects.outcomes, Subjects.timers, Subjects.cancelNotice]) {
      expect(() => build(id)).toThrow(ValidationError);
    }
  });

  it.each(BAD_TOKENS)('refuses the plugin name %j', (plugin) => {
    expect(() => Subjects.tasks(plugin)).toThrow(/is not a valid subject token/);
  });

  it('throws a ValidationError with a code and issues', () => {
    try {
      Subjects.events('a.>');
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(OrchestraError);
      expect(error).toMatchObject({
        name: 'ValidationError',
        code: 'VALIDATION',
        message: 'execution_id "a.>" is not a valid subject token',
        issues: [{ path: 'execution_id', message: expect.any(String) }],
      });
    }
  });

  it('reads the execution id back from a subject, and refuses a wildcard', () => {
    expect(executionIdOf('orchestra.events.exec-1')).toBe('exec-1');
    expect(executionIdOf(Subjects.outcomes('x9'))).toBe('x9');
    expect(() => executionIdOf('orchestra.events.>')).toThrow(ValidationError);
    expect(() => executionIdOf('orchestra.events.')).toThrow(ValidationError);
  });
});

describe('MessageIds, Streams, Buckets', () => {
  it('identifies a dispatch by execution, task and attempt', () => {
    expect(MessageIds.dispatch('e1', 't1', 3)).toBe('e1:t1:3');
    expect(MessageIds.outcome('e1', 't1', 3)).toBe('e1:t1:3:outcome');
    expect(MessageIds.deadline('e1', 1_700_000_000_000)).toBe('e1:deadline:1700000000000');
    expect(MessageIds.retry('e1', 't1', 2)).toBe('e1:t1:2:retry');
  });

  it('keeps message ids of different kinds and attempts distinct', () => {
    const ids = [1, 2, 11].flatMap((attempt) => [
      ...[MessageIds.dispatch, MessageIds.outcome, MessageIds.retry].map((build) =>
        build('e1', 't1', attempt),
      ),
      MessageIds.deadline('e1', attempt),
    ]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names streams and buckets', () => {
    expect(Streams).toMatchObject({
      commands: 'ORCHESTRA_COMMANDS',
      events: 'ORCHESTRA_EVENTS',
      tasks: 'ORCHESTRA_TASKS',
    });
    expect(Buckets.results).toBe('orchestra_results');
  });
});

describe('helpers', () => {
  it('formats zod paths', () => {
    expect(formatPath(['phases', 2, 'tasks', 0, 'retries'])).toBe('phases[2].tasks[0].retries');
    expect(formatPath([])).toBe('(root)');
    expect(formatPath([0, 'a'])).toBe('[0].a');
  });

  it('finds a cycle and what is reachable', () => {
    const edges: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] };
    expect(findCycle(['d', 'a', 'b', 'c'], (node) => edges[node] ?? [])).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(['a', 'b'], (node) => (node === 'a' ? ['b'] : []))).toBeUndefined();
    expect([...reachable('d', (node) => edges[node] ?? [])].sort()).toEqual(['a', 'b', 'c']);
  });
});
