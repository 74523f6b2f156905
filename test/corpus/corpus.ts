import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanGenerator } from './generate.js';

/** Loading the checked-in bad-input corpus (format: README.md in this directory). */
export const CORPUS_DIR = __dirname;
export const PLANS_DIR = join(CORPUS_DIR, 'plans');
export const MESSAGES_DIR = join(CORPUS_DIR, 'messages');
export const OUTPUTS_DIR = join(CORPUS_DIR, 'outputs');

/** The category of a case: its file name up to `--`. */
export function categoryOf(file: string): string {
  const at = file.indexOf('--');
  if (at <= 0) throw new Error(`corpus file ${file} has no "<category>--" prefix`);
  return file.slice(0, at);
}

export function listCases(dir: string, suffix: RegExp): string[] {
  return readdirSync(dir)
    .filter((file) => suffix.test(file))
    .sort();
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** How many cases of each category, for the test names and the README. */
export function countByCategory(files: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of files) counts[categoryOf(file)] = (counts[categoryOf(file)] ?? 0) + 1;
  return counts;
}

/** One issue that must be among a rejected plan's issues: exact path, message fragment. */
export interface ExpectedIssue {
  path: string;
  message: string;
}

export interface PlanExpectation extends ExpectedIssue {
  /** What `orchestra validate` prints instead, when it differs (a file too big to read). */
  cli?: ExpectedIssue;
}

/** `plans/<category>--<name>.gen.json`: a plan generated at test time. */
export interface PlanDescriptor {
  description: string;
  format: 'yaml' | 'json';
  generate: PlanGenerator;
}

export function loadPlanExpectations(): Record<string, PlanExpectation> {
  return readJson(join(CORPUS_DIR, 'plans-expected.json'));
}
