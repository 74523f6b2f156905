import { MessageIds } from '@orchestra/contracts';
import { onePhase, specFor, T0, task } from '@orchestra/testing';
import { outboxEffects } from './effects.js';

// orchestra doctor --repair: a RepairExecution is recorded, and the outbox publishes again what
// the log implies for the named tasks, under message ids of that repair.

describe('a repair of a running execution', () => {
  const s = specFor(onePhase([task('a', { timeout_ms: 1_000 }), task('b', { retries: 1 }), task('c')]));
  const history = [
    s.started(),
    s.phaseStarted('p1'),
    s.dispatched('a'),
    s.dispatched('b'),
    s.dispatched('c'),
    s.failed('b', 'x'),
    s.retryScheduled('b', { delay_ms: 200 }),
    s.succeeded('c', 1),
  ];

  it('is recorded with its number, and publishes the named tasks again: the dispatch, its deadline timer', () => {
    const { decision } = s
      .given(...history)
      .when({ kind: 'repair', execution_id: 'exec-1', reason: 'dispatch lost', tasks: ['a'] });
    expect(decision.events).toEqual([
      {
        type: 'ExecutionRepaired',
        execution_id: 'exec-1',
        at: T0,
        reason: 'dispatch lost',
        tasks: ['a'],
        repair: 1,
      },
    ]);
    const effects = outboxEffects(decision.state, decision.events);
    expect(effects.map((effect) => [effect.kind, 'repair' in effect ? effect.repair : undefined])).toEqual([
      ['dispatch', 1],
      ['timer', 1],
    ]);
    expect(effects[0]).toMatchObject({ command: { task_id: 'a', attempt_number: 1 } });
    expect(effects[1]).toMatchObject({ timer: { kind: 'deadline', task_id: 'a', due_at: T0 + 1_000 } });
    expect(MessageIds.repaired(MessageIds.dispatch('exec-1', 'a', 1), 1)).toBe('exec-1:a:1:repair-1');
  });

  it('publishes every task in flight when none is named: running dispatches, retry timers, deadlines', () => {
    const { decision } = s.given(...history).when({ kind: 'repair', execution_id: 'exec-1' });
    const effects = outboxEffects(decision.state, decision.events);
    expect(
      effects.map((effect) =>
        effect.kind === 'dispatch'
          ? `dispatch ${effect.command.task_id}`
          : effect.kind === 'timer'
            ? `${effect.timer.kind} ${effect.timer.task_id}`
            : effect.kind,
      ),
    ).toEqual(['dispatch a', 'retry b', 'deadline a']);
  });

  it('numbers repairs on, and is ignored for an ended execution or an unknown task', () => {
    const repaired = { type: 'ExecutionRepaired' as const, reason: 'r', tasks: [], repair: 1 };
    s.given(...history, repaired)
      .when({ kind: 'repair', execution_id: 'exec-1', reason: 'again' })
      .then({ type: 'ExecutionRepaired', reason: 'again', tasks: [], repair: 2 });
    s.given(...history)
      .when({ kind: 'repair', execution_id: 'exec-1', tasks: ['zz'] })
      .thenIgnored('not tasks of the plan: zz');
    s.given(s.started(), s.phaseStarted('p1'), s.finished('cancelled'))
      .when({ kind: 'repair', execution_id: 'exec-1' })
      .thenIgnored('execution already ended (cancelled)');
    specFor(onePhase([task('a')]), 'ghost')
      .given()
      .when({ kind: 'repair', execution_id: 'ghost' })
      .thenIgnored('unknown execution');
  });
});
