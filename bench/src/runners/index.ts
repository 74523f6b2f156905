import type { Context, Scenario, ScenarioResult } from '../harness.js';
import { runC } from './chain.js';
import { runM } from './many.js';
import { runR } from './replay.js';
import { runS } from './restart.js';
import { runW } from './wide.js';

export const RUNNERS: Record<Scenario, (ctx: Context) => Promise<ScenarioResult>> = {
  W: runW,
  C: runC,
  M: runM,
  R: runR,
  S: runS,
};
