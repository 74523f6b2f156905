import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateNats } from './nats-location.js';
import { claimStore, processStart, readUpRecord, releaseStore, UP_FILE, type UpRecord } from './up-record.js';

// Which server a command talks to, and the lock `orchestra up` takes on its store: the address
// comes from the running `up` of the directory, never silently from somewhere else.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orchestra-location-'));
  mkdirSync(join(dir, '.orchestra'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const writeRecord = (record: Partial<UpRecord>) =>
  writeFileSync(join(dir, UP_FILE), JSON.stringify({ started_at: 'x', store: '.orchestra/nats', ...record }));

/** A pid that no longer runs: a child that has exited and been reaped. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

describe('locateNats', () => {
  it('uses NATS_URL when it is set', () => {
    writeRecord({ pid: process.pid, pid_start: processStart(process.pid), url: 'nats://127.0.0.1:5000' });
    expect(locateNats({ NATS_URL: 'nats://elsewhere:4222' }, dir)).toMatchObject({
      url: 'nats://elsewhere:4222',
      source: 'NATS_URL',
    });
  });

  it('uses the server of the up running from the directory', () => {
    writeRecord({ pid: process.pid, pid_start: processStart(process.pid), url: 'nats://127.0.0.1:5000' });
    expect(locateNats({}, dir)).toMatchObject({ url: 'nats://127.0.0.1:5000', source: 'orchestra up' });
  });

  it('keeps to the embedded server while it runs, even after its up died', () => {
    writeRecord({
      pid: deadPid(),
      url: 'nats://127.0.0.1:5000',
      nats_pid: process.pid,
      nats_start: processStart(process.pid),
    });
    expect(locateNats({}, dir).url).toBe('nats://127.0.0.1:5000');
  });

  it('falls back to the default only when nothing of the directory runs, and says why', () => {
    expect(locateNats({}, dir)).toEqual({
      url: 'nats://127.0.0.1:4222',
      source: 'default',
      note: 'no orchestra up runs from this directory and NATS_URL is not set, so the default nats://127.0.0.1:4222 was used',
    });
    const pid = deadPid();
    writeRecord({ pid, url: 'nats://127.0.0.1:5000', nats_pid: deadPid() });
    expect(locateNats({}, dir).note).toContain(
      `the orchestra up recorded in ${UP_FILE} (pid ${pid}) is no longer running`,
    );
  });

  it('does not take a reused pid (another start time) for the up that was recorded', () => {
    writeRecord({ pid: process.pid, pid_start: '1', url: 'nats://127.0.0.1:5000' });
    expect(locateNats({}, dir).source).toBe('default');
  });
});

describe('claimStore: one orchestra up per store', () => {
  it('takes the store, refuses it while the owner runs, and gives it back', () => {
    expect(claimStore(dir, '.orchestra/nats')).toEqual({ ok: true });
    expect(readUpRecord(dir)).toMatchObject({ pid: process.pid, pid_start: processStart(process.pid) });
    const again = claimStore(dir, '.orchestra/nats');
    expect(again).toMatchObject({ ok: false, running: { pid: process.pid } });
    releaseStore(dir);
    expect(readUpRecord(dir)).toBeUndefined();
    expect(claimStore(dir, '.orchestra/nats')).toEqual({ ok: true });
  });

  it('replaces the record of an up that no longer runs, naming the server it left running', () => {
    writeRecord({ pid: deadPid(), nats_pid: process.pid, nats_start: processStart(process.pid) });
    expect(claimStore(dir, '.orchestra/nats')).toEqual({
      ok: true,
      orphan: { pid: process.pid, start: processStart(process.pid) },
    });
    expect(readUpRecord(dir)?.pid).toBe(process.pid);
  });
});
