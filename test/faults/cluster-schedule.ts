/** The cluster fault suite's schedule (test/faults/cluster.faults.spec.ts). */
export type ClusterFault = 'node' | 'leader' | 'rolling';

export interface ClusterSettings {
  /** Executions submitted over the run, at least. */
  executions: number;
  /** kill -9 of a node: `leaderKills` of them aimed at the events stream's leader, the rest at any node. */
  nodeKills: number;
  leaderKills: number;
  /** Rolling restarts of all three nodes (SIGTERM, start, caught up; one node at a time). */
  rollingRestarts: number;
  /** Pause between two faults, drawn uniformly in [min, max] ms. */
  pauseMs: [number, number];
  /** How long a killed node stays down, at most (ms). */
  downMs: number;
  submitPauseMs: number;
}

export const ClusterShort: ClusterSettings = {
  executions: 40,
  nodeKills: 6,
  leaderKills: 3,
  rollingRestarts: 1,
  pauseMs: [500, 1500],
  downMs: 1000,
  submitPauseMs: 150,
};

export const ClusterLong: ClusterSettings = {
  executions: 600,
  nodeKills: 100,
  leaderKills: 40,
  rollingRestarts: 3,
  pauseMs: [300, 1500],
  downMs: 1500,
  submitPauseMs: 600,
};

/** The faults in a shuffled order with exact counts, so the figures are met by construction. */
export function clusterFaultOrder(settings: ClusterSettings, random: () => number): ClusterFault[] {
  const faults: ClusterFault[] = [
    ...Array<ClusterFault>(settings.leaderKills).fill('leader'),
    ...Array<ClusterFault>(settings.nodeKills - settings.leaderKills).fill('node'),
    ...Array<ClusterFault>(settings.rollingRestarts).fill('rolling'),
  ];
  for (let i = faults.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j] as ClusterFault, faults[i] as ClusterFault];
  }
  return faults;
}

/** The p-th percentile (nearest rank) of `values`; 0 when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
