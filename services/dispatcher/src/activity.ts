/** What one dispatcher has done for one plugin since it started (announced with the plugin). */
export interface PluginActivityCounts {
  /** Commands held now: running, or delivered and waiting for a slot. */
  in_flight: number;
  /** Attempts answered with an outcome (succeeded or failed). */
  processed: number;
  /** Of those, the failed ones. */
  failed: number;
}

/** Counts per plugin, kept by the task runner and read by the announcement. */
export class PluginActivity {
  private readonly counts = new Map<string, PluginActivityCounts>();

  started(plugin: string): void {
    this.of(plugin).in_flight += 1;
  }

  /** `aborted`: cancelled or past the deadline, no outcome was published. */
  ended(plugin: string, how: 'succeeded' | 'failed' | 'aborted' | 'not started'): void {
    const counts = this.of(plugin);
    counts.in_flight = Math.max(0, counts.in_flight - 1);
    if (how === 'succeeded' || how === 'failed') counts.processed += 1;
    if (how === 'failed') counts.failed += 1;
  }

  snapshot(plugin: string): PluginActivityCounts {
    return { ...this.of(plugin) };
  }

  private of(plugin: string): PluginActivityCounts {
    let counts = this.counts.get(plugin);
    if (!counts) {
      counts = { in_flight: 0, processed: 0, failed: 0 };
      this.counts.set(plugin, counts);
    }
    return counts;
  }
}
