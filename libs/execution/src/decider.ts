import { decide, decideAll } from './decide.js';
import { evolve } from './evolve.js';
import { initialState } from './state.js';

/**
 * The execution's decider, as one value: `initialState()`, `evolve(state, event)` (the fold) and
 * `decide(state, input, ctx)` (the rules; `decideAll` for several inputs of one execution). The
 * orchestrator, the results service and replay use these and nothing else to know an execution.
 */
export const executionDecider = { initialState, evolve, decide, decideAll } as const;
export type ExecutionDecider = typeof executionDecider;
