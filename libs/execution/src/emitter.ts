import type { ExecutionEvent } from '@orchestra/contracts';
import { applyInPlace } from './evolve.js';
import type { ExecutionState } from './state.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as a rule writes it: the emitter adds the execution id and the decision's time. */
export type NewEvent = DistributiveOmit<ExecutionEvent, 'execution_id' | 'at'>;

/**
 * What the rules write to: collects decided events and folds each into the working state at once,
 * so later rules see the effect of earlier ones within the same decision.
 */
export interface Emitter {
  readonly state: ExecutionState;
  readonly now: number;
  emit(event: NewEvent): void;
}

/** An emitter over `draft` (a state this decision owns), appending to `events`. */
export function emitterFor(
  draft: ExecutionState,
  events: ExecutionEvent[],
  executionId: string,
  now: number,
): Emitter {
  return {
    state: draft,
    now,
    emit(partial) {
      const event = {
        ...partial,
        execution_id: draft.execution_id ?? executionId,
        at: now,
      } as ExecutionEvent;
      events.push(event);
      applyInPlace(draft, event);
    },
  };
}
