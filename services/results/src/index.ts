export { type ResultsOptions, startResults } from './main.js';
