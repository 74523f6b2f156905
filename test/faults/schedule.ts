/** A seeded pseudo-random generator (mulberry32), so a failing schedule can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Fault = 'orchestrator' | 'dispatcher' | 'results' | 'nats-server';

export interface FaultSettings {
  /** Executions submitted over the run. */
  executions: number;
  /** Faults injected, at least this many of each service kill and of server restarts. */
  killsPerService: number;
  serverRestarts: number;
  /** Pause between two faults, drawn uniformly in [min, max] ms. */
  pauseMs: [number, number];
  /** Pause between two submitted executions while faults are injected. */
  submitPauseMs: number;
  seed: number;
}

export const SHORT: Omit<FaultSettings, 'seed'> = {
  executions: 60,
  killsPerService: 6,
  serverRestarts: 3,
  pauseMs: [300, 900],
  submitPauseMs: 150,
};

export const LONG: Omit<FaultSettings, 'seed'> = {
  executions: 1_000,
  killsPerService: 200,
  serverRestarts: 20,
  pauseMs: [100, 500],
  submitPauseMs: 800,
};

/** The faults in a shuffled order with exact counts, so the figures are met by construction. */
export function faultOrder(settings: FaultSettings, random: () => number): Fault[] {
  const faults: Fault[] = [];
  for (const service of ['orchestrator', 'dispatcher', 'results'] as const) {
    for (let i = 0; i < settings.killsPerService; i++) faults.push(service);
  }
  for (let i = 0; i < settings.serverRestarts; i++) faults.push('nats-server');
  for (let i = faults.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j] as Fault, faults[i] as Fault];
  }
  return faults;
}
