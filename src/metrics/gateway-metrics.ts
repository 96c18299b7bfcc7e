import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's own instruments; pool gauges come from pool-collector.ts. */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'call' | 'outcome'>;
  requestSeconds: Histogram<'call'>;
  placementSeconds: Histogram<'outcome'>;
  refusedJoins: Counter<'reason'>;
  /** Counts and times one answered request (the per-request hot path). */
  answered(call: string, outcome: string, seconds: number): void;
}

/**
 * prom-client hashes the label object on every call; the gateway answers tens of thousands of
 * requests a second over a handful of label sets, so the bound children are kept.
 */
function cachedChildren<T>(bind: (key: string) => T): (key: string) => T {
  const children = new Map<string, T>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = bind(key);
      children.set(key, child);
    }
    return child;
  };
}

export function createGatewayMetrics(registry = new Registry(), withProcessMetrics = true): GatewayMetrics {
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'amphi_' });
  const metrics = {
    registry,
    requests: new Counter({
      name: 'amphi_requests_total',
      help: 'BBB API requests answered, by call and outcome',
      labelNames: ['call', 'outcome'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'amphi_request_duration_seconds',
      help: 'Time to answer a BBB API request, by call',
      labelNames: ['call'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    placementSeconds: new Histogram({
      name: 'amphi_placement_duration_seconds',
      help: 'Time to choose and reserve a server for a new meeting, by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    refusedJoins: new Counter({
      name: 'amphi_joins_refused_total',
      help: 'Joins refused by the gateway, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  const counted = cachedChildren((key) => metrics.requests.labels(...(key.split('\n') as [string, string])));
  const timed = cachedChildren((call) => metrics.requestSeconds.labels(call));
  return {
    ...metrics,
    answered(call, outcome, seconds) {
      counted(`${call}\n${outcome}`).inc();
      timed(call).observe(seconds);
    },
  };
}
