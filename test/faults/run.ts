import { setTimeout as sleep } from 'node:timers/promises';
import { createUser } from '@nats-io/nkeys';
import { signerFromKey } from '@orchestra/bus';
import type { OrchestraClient } from '@orchestra/client';
import { type FaultPlan, faultPlan } from './plans.js';
import { readExecution, type Verdict, verifyExecution } from './verify.js';

/**
 * What both fault suites share: executions submitted for as long as faults are injected, and the
 * verification of every accepted one afterwards.
 */
/** Every orchestrator signs with this key, so `orchestra verify` checks each record's signature too. */
export const SIGNING_KEY = new TextDecoder().decode(createUser().getSeed());
export const VERIFY_KEY = signerFromKey(SIGNING_KEY).keyId;

export interface Load {
  accepted: Map<string, FaultPlan>;
  /** Stops submitting once at least `executions` were accepted; resolves when it has. */
  finish(): Promise<void>;
}

export function startLoad(
  client: OrchestraClient,
  prefix: string,
  executions: number,
  pauseMs: number,
): Load {
  const accepted = new Map<string, FaultPlan>();
  let injecting = true;
  const submitting = (async () => {
    for (let n = 0; injecting || n < executions; n++) {
      const plan = faultPlan(n);
      const id = `${prefix}-${n}`;
      await submitUntilStored(client, plan, id);
      accepted.set(id, plan);
      await sleep(pauseMs);
    }
  })();
  return {
    accepted,
    finish() {
      injecting = false;
      return submitting;
    },
  };
}

/** Publishes until the server acknowledges: only then is the command accepted (and counted). */
async function submitUntilStored(client: OrchestraClient, plan: FaultPlan, id: string): Promise<void> {
  for (;;) {
    try {
      await client.execute(plan.plan, id);
      return;
    } catch {
      await sleep(200);
    }
  }
}

/** Waits for each accepted execution's final results, then checks it (verify.ts). */
export async function verifyAll(
  client: OrchestraClient,
  accepted: Map<string, FaultPlan>,
  /** What a suite checks besides (the signed hash chain). */
  check?: (id: string, verdict: Verdict) => Promise<void>,
): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const [id, plan] of accepted) {
    await client.waitForResults(id, 180_000).catch(() => undefined);
    const { events, stored } = await readExecution(client, id);
    const verdict = verifyExecution(id, events, stored, plan.expected);
    await check?.(id, verdict);
    verdicts.push(verdict);
  }
  return verdicts;
}

/** The verdicts that break invariant 5; printed, and with the kill-forced differences listed. */
export function failuresOf(verdicts: readonly Verdict[]): Verdict[] {
  const forced = verdicts.flatMap((v) => v.killForced);
  if (forced.length > 0)
    console.log(`differences a kill forced (an attempt on a served plugin timed out):\n${forced.join('\n')}`);
  const failures = verdicts.filter(
    (v) =>
      v.lost ||
      v.unfinished ||
      v.doubleCounted.length ||
      v.replayMismatch ||
      v.mismatches.length ||
      v.chainProblem !== null,
  );
  if (failures.length > 0) console.log(`failures:\n${JSON.stringify(failures, null, 2)}`);
  return failures;
}
