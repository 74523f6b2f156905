import type { CommandRegistration } from '../context.js';
import { registerExport, registerKeygen, registerVerify } from './audit.js';
import { registerConsole } from './console.js';
import { registerDeadLetters } from './dead-letters.js';
import { registerDoctor } from './doctor.js';
import { registerCancel, registerList, registerReplay, registerResults, registerStatus } from './inspect.js';
import { registerPlugins } from './plugins.js';
import { registerProvision } from './provision.js';
import { registerRerun } from './rerun.js';
import { registerRun, registerWatch } from './run.js';
import { registerUp } from './up.js';
import { registerValidate } from './validate.js';

/**
 * Every command of `orchestra`, in the order `--help` lists them. To add one, write
 * `commands/<name>.ts` exporting a `CommandRegistration`, import it here and list it below.
 */
export const COMMANDS: readonly CommandRegistration[] = [
  registerUp,
  registerProvision,
  registerValidate,
  registerRun,
  registerWatch,
  registerResults,
  registerReplay,
  registerStatus,
  registerList,
  registerCancel,
  registerRerun,
  registerVerify,
  registerExport,
  registerKeygen,
  registerDoctor,
  registerDeadLetters,
  registerConsole,
  registerPlugins,
];
