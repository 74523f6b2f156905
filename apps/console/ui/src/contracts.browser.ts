/**
 * @orchestra/contracts for the page: what libs/execution calls at run time, without the message
 * schemas compiled with z.compile, which generate code when they load (new Function) and so
 * cannot run under the console's Content-Security-Policy (results.ts is left out for that: it
 * imports tasks.ts). The page never validates messages: the console server did, with the full
 * contracts, before it streamed them.
 */
export * from '../../../../libs/contracts/src/errors.js';
export * from '../../../../libs/contracts/src/graph.js';
export * from '../../../../libs/contracts/src/ids.js';
export * from '../../../../libs/contracts/src/json.js';
export * from '../../../../libs/contracts/src/limits.js';
export * from '../../../../libs/contracts/src/plan.js';
export * from '../../../../libs/contracts/src/references.js';
export * from '../../../../libs/contracts/src/validate.js';
