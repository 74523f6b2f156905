import type { ExecutionEvent, TaskOutcome } from '@orchestra/contracts';
import { OrchestraMetrics } from './metrics.js';
import { healthServerSettings } from './server.js';

const at = 1_000_000;
/** One sample's value (a histogram's `_sum` and `_count` are samples of their own). */
const value = async (metrics: OrchestraMetrics, name: string, labels: Record<string, string> = {}) => {
  const samples = (await metrics.registry.getMetricsAsJSON()).flatMap((metric) =>
    metric.values.map((sample) => ({
      ...sample,
      name: (sample as { metricName?: string }).metricName ?? metric.name,
    })),
  );
  const sample = samples.find(
    (v) => v.name === name && Object.entries(labels).every(([key, label]) => v.labels[key] === label),
  );
  return sample?.value ?? 0;
};

describe('OrchestraMetrics', () => {
  it('counts executions, retries, fallbacks and timeouts from stored events', async () => {
    const metrics = new OrchestraMetrics();
    const base = { execution_id: 'e1', at, phase_id: 'p', task_id: 't', input_context: {}, deadline_at: at };
    const events = [
      { type: 'ExecutionStarted', execution_id: 'e1', at, plan: {} },
      { ...base, type: 'TaskDispatched', attempt_number: 1, kind: 'first', plugin: 'a' },
      {
        type: 'TaskTimedOut',
        execution_id: 'e1',
        at,
        phase_id: 'p',
        task_id: 't',
        attempt_number: 1,
        plugin_used: 'a',
        duration_ms: 5,
      },
      { ...base, type: 'TaskDispatched', attempt_number: 2, kind: 'retry', plugin: 'a' },
      { ...base, type: 'TaskDispatched', attempt_number: 3, kind: 'fallback', plugin: 'b' },
      { type: 'ExecutionFinished', execution_id: 'e1', at, status: 'partial' },
      { type: 'ExecutionRejected', execution_id: 'e2', at, reason: 'bad', issues: [] },
    ] as unknown as ExecutionEvent[];
    for (const event of events) metrics.eventStored(event, at + 20);
    expect(await value(metrics, 'orchestra_executions_started_total')).toBe(1);
    expect(await value(metrics, 'orchestra_executions_finished_total', { status: 'partial' })).toBe(1);
    expect(await value(metrics, 'orchestra_executions_finished_total', { status: 'rejected' })).toBe(1);
    expect(await value(metrics, 'orchestra_task_retries_total', { plugin: 'a' })).toBe(1);
    expect(await value(metrics, 'orchestra_task_fallbacks_total', { plugin: 'b' })).toBe(1);
    expect(await value(metrics, 'orchestra_task_timeouts_total', { plugin: 'a' })).toBe(1);
    expect(await value(metrics, 'orchestra_events_total', { type: 'TaskDispatched' })).toBe(3);
    expect(await value(metrics, 'orchestra_dispatch_publish_delay_seconds_sum')).toBeCloseTo(0.06);
  });

  it('measures the overhead of an outcome whose decision dispatched the next task, never below zero', async () => {
    const metrics = new OrchestraMetrics();
    const outcome = { finished_at: at } as TaskOutcome;
    const dispatched = [{ type: 'TaskDispatched' }] as ExecutionEvent[];
    metrics.outcomeDecided(outcome, dispatched, at + 30);
    metrics.outcomeDecided(outcome, [{ type: 'TaskSucceeded' }] as ExecutionEvent[], at + 30);
    metrics.outcomeDecided(outcome, dispatched, at - 10); // another process's clock ahead of ours
    expect(await value(metrics, 'orchestra_orchestration_overhead_seconds_count')).toBe(2);
    expect(await value(metrics, 'orchestra_orchestration_overhead_seconds_sum')).toBeCloseTo(0.03);
  });

  it('counts task attempts by plugin and status with their duration', async () => {
    const metrics = new OrchestraMetrics();
    metrics.taskFinished('builtin', 'succeeded', 1500);
    metrics.taskFinished('builtin', 'aborted', 10);
    expect(
      await value(metrics, 'orchestra_tasks_finished_total', { plugin: 'builtin', status: 'succeeded' }),
    ).toBe(1);
    expect(
      await value(metrics, 'orchestra_task_duration_seconds_sum', { plugin: 'builtin', status: 'succeeded' }),
    ).toBe(1.5);
  });
});

describe('healthServerSettings', () => {
  it('listens on 8080 by default, not at all on 0, and refuses a port that is not one', () => {
    expect(healthServerSettings({})).toEqual({ port: 8080, explicit: false, maxEventLoopDelayMs: 5000 });
    expect(healthServerSettings({ HEALTH_PORT: '0' })).toBeUndefined();
    expect(healthServerSettings({ HEALTH_PORT: '9100', HEALTH_HOST: '127.0.0.1' })).toEqual({
      port: 9100,
      host: '127.0.0.1',
      explicit: true,
      maxEventLoopDelayMs: 5000,
    });
    expect(() => healthServerSettings({ HEALTH_PORT: 'http' })).toThrow(/HEALTH_PORT/);
  });
});
