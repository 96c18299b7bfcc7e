import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's own instruments; pool gauges come from pool-collector.ts. */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'call' | 'outcome'>;
  requestSeconds: Histogram<'call'>;
  placementSeconds: Histogram<'outcome'>;
  refusedJoins: Counter<'reason'>;
}

export function createGatewayMetrics(registry = new Registry(), withProcessMetrics = true): GatewayMetrics {
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'amphi_' });
  return {
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
}
