import type { Metric, Registry } from 'prom-client';
import { actionSeries, readScalerMetrics, SERVER_PHASES } from '../../scaler/status.js';
import type { ScalerMetricsSnapshot } from '../../scaler/status.js';
import type { Store } from '../state/store.js';

// The scaler's metrics, read from Redis when Prometheus scrapes (scaler/status.ts keeps them
// there): the scaler role has no HTTP listener and may run as several replicas, so the gateway
// exports what they recorded, the same on every gateway replica. Nothing is exported for a pool
// whose scaler never ran: no status, no gauge. Once it has run, amphi_scaler_actions_total has
// every type × outcome, 0 until counted (scaler/status.ts actionSeries), as the poller's
// counters do: increase() over a series born with its first failure would miss that failure.

interface Sample {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A metric whose samples come whole from the snapshot read at scrape time. prom-client's Registry
 * renders every registered metric from what its get() answers (name, help, type, aggregator, and
 * samples that may each carry their own metricName: that is how its Histogram writes `_bucket`,
 * `_sum` and `_count`), and its AggregatorRegistry merges gateway workers from the same answer.
 * Its Counter and Histogram can only be incremented and observed here, never set to counts kept
 * elsewhere, so this answers get() itself: a histogram is exported as a histogram (cumulative
 * `le` buckets, `+Inf` = `_count`), not as gauges.
 */
class SnapshotMetric {
  // Every gateway worker reads the same Redis: across workers, the first answer is the answer.
  readonly aggregator = 'first';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter' | 'histogram',
    private readonly samples: () => Promise<Sample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.samples() };
  }

  reset(): void {}
}

export function registerScalerCollector(registry: Registry, store: Store): void {
  // prom-client asks every metric at once: they all await the same read. A failed read (Redis
  // down) exports nothing rather than failing the scrape: amphi_redis_up says why.
  let pass: Promise<ScalerMetricsSnapshot> | undefined;
  const snapshot = (): Promise<ScalerMetricsSnapshot> =>
    (pass ??= readScalerMetrics(store.ctx.redis, store.ctx.keys)
      .catch((): ScalerMetricsSnapshot => ({ actions: [], decisions: {} }))
      .finally(() => (pass = undefined)));
  const metric = (name: string, help: string, type: SnapshotMetric['type'], samples: (s: ScalerMetricsSnapshot) => Sample[]) =>
    // The registry renders it through get(), as it does its own metrics.
    registry.registerMetric(new SnapshotMetric(name, help, type, async () => samples(await snapshot())) as unknown as Metric);

  metric('amphi_scaler_desired_servers', 'Servers the last scaler step wanted per size class (ready and booting)', 'gauge', ({ status }) =>
    Object.entries(status?.desired ?? {}).map(([size_class, value]) => ({ labels: { size_class }, value })),
  );
  metric('amphi_scaler_servers', 'Servers per size class and scaler phase (ready, booting, draining, deleting, unavailable) as the last scaler step found them, before its actions', 'gauge', ({ status }) =>
    Object.entries(status?.servers ?? {}).flatMap(([size_class, phases]) => SERVER_PHASES.map((phase) => ({ labels: { size_class, phase }, value: phases[phase] }))),
  );
  metric(
    'amphi_scaler_demand_load_units',
    'Demand at the last scaler step, in load units: measured now, forecast peak until servers asked for now are ready, capacity required at the target utilization',
    'gauge',
    ({ status }) =>
      status
        ? [
            { labels: { kind: 'measured' }, value: status.demand.measured },
            { labels: { kind: 'forecast' }, value: status.demand.forecast },
            { labels: { kind: 'required_capacity' }, value: status.demand.requiredCapacity },
          ]
        : [],
  );
  metric('amphi_scaler_last_step_timestamp_seconds', 'When the last scaler step ran (Unix time)', 'gauge', ({ status }) =>
    status ? [{ labels: {}, value: status.at / 1000 }] : [],
  );
  metric(
    'amphi_scaler_forecast_check_load_units',
    'The last forecast whose window has passed: its peak (kind=forecast) and the peak the scaler measured over the same window (kind=measured), in load units',
    'gauge',
    ({ status }) => {
      const c = status?.forecastCheck;
      return c
        ? [
            { labels: { kind: 'forecast' }, value: c.forecast },
            { labels: { kind: 'measured' }, value: c.measured },
          ]
        : [];
    },
  );
  metric(
    'amphi_scaler_forecast_error_load_units',
    'Measured peak minus forecast peak over the last forecast window that has passed, in load units (positive: demand came that was not forecast)',
    'gauge',
    ({ status }) => {
      const c = status?.forecastCheck;
      return c ? [{ labels: {}, value: c.measured - c.forecast }] : [];
    },
  );
  metric(
    'amphi_scaler_actions_total',
    'Scale action attempts that ended, by type (provision, drain) and outcome (retry: failed, tried again); progress checks (booting, not-empty) are not counted',
    'counter',
    (snapshot) => actionSeries(snapshot).map(({ type, outcome, count }) => ({ labels: { type, outcome }, value: count })),
  );
  metric('amphi_scaler_decisions_total', 'Scale actions enqueued by the scaler steps, by action (a provision counts each server asked for)', 'counter', ({ decisions }) =>
    Object.entries(decisions).map(([action, value]) => ({ labels: { action }, value })),
  );
  metric('amphi_scaler_time_to_ready_seconds', 'Time from asking the provider for a server to registering it, enabled', 'histogram', ({ timeToReady: h }) =>
    h
      ? [
          ...h.buckets.map(({ le, count }) => ({ metricName: 'amphi_scaler_time_to_ready_seconds_bucket', labels: { le }, value: count })),
          { metricName: 'amphi_scaler_time_to_ready_seconds_sum', labels: {}, value: h.sum },
          { metricName: 'amphi_scaler_time_to_ready_seconds_count', labels: {}, value: h.count },
        ]
      : [],
  );
}
