import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `orchestra up` keeps its embedded server's store and its record, relative to the working directory. */
export const STATE_DIR = '.orchestra';
/** The record of the `orchestra up` that owns the store: it is also the store's lock. */
export const UP_FILE = join(STATE_DIR, 'up.json');

/**
 * What `orchestra up` writes while it runs an embedded nats-server from a directory. Its
 * presence locks the store (`.orchestra/nats`) to that one process; the CLI's commands read the
 * server's address from it. A process is named by its pid and its start time, so a pid reused
 * by an unrelated process after a crash is not mistaken for it.
 */
export interface UpRecord {
  pid: number;
  pid_start: string;
  started_at: string;
  store: string;
  /** Set once the embedded nats-server listens. */
  url?: string;
  nats_pid?: number;
  nats_start?: string;
}

export function readUpRecord(cwd: string): UpRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(resolve(cwd, UP_FILE), 'utf8')) as Partial<UpRecord>;
    return typeof value.pid === 'number' ? (value as UpRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Start time of a process (field 22 of /proc/<pid>/stat, in clock ticks since boot), '' when it
 * cannot be read (no such process, or no /proc on this system).
 */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Whether the process `pid` still runs and is the one that was recorded (same start time). */
export function isRunning(pid: number | undefined, start?: string): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(pid);
  return !start || !now || now === start;
}

/** The `orchestra up` running from `cwd` with its embedded server, if any. */
export function runningUp(cwd: string): UpRecord | undefined {
  const record = readUpRecord(cwd);
  return record && isRunning(record.pid, record.pid_start) ? record : undefined;
}

export type StoreClaim =
  /** The store is ours; `orphan` is a server a crashed `up` left running on it (stop it first). */
  | { ok: true; orphan?: { pid: number; start?: string } }
  /** Another `orchestra up` runs from this directory. */
  | { ok: false; running: UpRecord };

/**
 * Takes the store of `cwd` for this process: creates the record exclusively, or replaces one
 * left by an `up` that no longer runs. Fails while the recorded `up` still runs.
 */
export function claimStore(cwd: string, store: string): StoreClaim {
  const path = resolve(cwd, UP_FILE);
  const mine: UpRecord = {
    pid: process.pid,
    pid_start: processStart(process.pid),
    started_at: new Date().toISOString(),
    store,
  };
  let stale: UpRecord | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(mine, null, 2)}\n`, { flag: 'wx' });
      return { ok: true, ...orphanOf(stale) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = readUpRecord(cwd);
    if (existing && isRunning(existing.pid, existing.pid_start)) return { ok: false, running: existing };
    stale = existing ?? stale;
    rmSync(path, { force: true });
  }
  throw new Error(`cannot take ${path}: another process keeps writing it`);
}

/** The nats-server a stopped `up` recorded, if it still runs (`up` was killed with SIGKILL). */
function orphanOf(record: UpRecord | undefined): { orphan?: { pid: number; start?: string } } {
  if (!record?.nats_pid || !isRunning(record.nats_pid, record.nats_start)) return {};
  return { orphan: { pid: record.nats_pid, ...(record.nats_start ? { start: record.nats_start } : {}) } };
}

/** Adds what is known once the server listens; written to a new file then renamed, never half-written. */
export function updateUpRecord(cwd: string, update: Partial<UpRecord>): void {
  const current = readUpRecord(cwd);
  if (current?.pid !== process.pid) return;
  const path = resolve(cwd, UP_FILE);
  writeFileSync(`${path}.${process.pid}`, `${JSON.stringify({ ...current, ...update }, null, 2)}\n`);
  renameSync(`${path}.${process.pid}`, path);
}

/** Removes the record if it is this process's own. */
export function releaseStore(cwd: string): void {
  if (readUpRecord(cwd)?.pid === process.pid) rmSync(resolve(cwd, UP_FILE), { force: true });
}
