// How much capacity the pool needs (cluster-autoscaler's "estimator"): the demand, reactive
// and forecast, turned into capacity at the target utilization, and how many servers of each
// class stand before the expander covers what is still missing.
import type { Demand } from './forecast/demand.js';
import type { ServerLoad } from './servers.js';

/** Slack for float error, so that 2,450 units at 0.7 × 500 is 7 servers and not 8. */
const EPSILON = 1e-9;

/** Whole servers for a fractional need, rounding up but not over float noise. */
export function ceilServers(fraction: number): number {
  return Math.max(0, Math.ceil(fraction - EPSILON * Math.max(1, Math.abs(fraction))));
}

/**
 * One server's demand in load units: the load model's figure, or what its CPU says when that is
 * more (recordings being processed, clients heavier than the model assumes), plus what young
 * meetings still reserve (they are coming, the poller has not seen them yet).
 */
export function serverDemand(s: ServerLoad): number {
  const byCpu = s.cpu === undefined ? 0 : s.cpu * s.capacity;
  return Math.max(s.measuredLoad, byCpu) + s.reservedLoad;
}

/**
 * What the pool holds now. Every server counts, draining and offline ones too: their meetings
 * still run, or will be created again elsewhere.
 */
export function reactiveDemand(servers: readonly ServerLoad[]): number {
  return servers.reduce((sum, s) => sum + serverDemand(s), 0);
}

export interface ClassLimits {
  /** Capacity of one server, load units. */
  capacity: number;
  min: number;
  max: number;
}

export interface EstimateInput {
  classes: Readonly<Record<string, ClassLimits>>;
  targetUtilization: number;
  /** Load units held now. */
  reactive: number;
  /** Peak demand forecast until servers asked for now and at the next decision are ready. */
  forecast: Demand;
  /** Servers per scaled class that are ready or booting. */
  current: Readonly<Record<string, number>>;
  /** Capacity of every ready or booting server, classes the scaler does not scale included. */
  currentCapacity: number;
}

export interface Estimate {
  /** Load units to hold: the larger of the reactive and the forecast demand. */
  demand: number;
  /** Capacity that holds `demand` at the target utilization. */
  requiredCapacity: number;
  /** Fewest servers per class: its min, raised to hold the demand pinned to it, at most its max. */
  minimum: Record<string, number>;
  /** Servers per class before any pool-wide addition: the current count within [minimum, max]. */
  baseline: Record<string, number>;
  /** Capacity still missing with the baseline, for the expander to cover (0: none). */
  shortfall: number;
}

/**
 * The baseline starts from the servers there are, not from zero: which class covers the
 * pool-wide demand is the expander's choice when the pool grows and scale-down's when it
 * shrinks, so an estimate never reshuffles a pool that is the right size.
 */
export function estimate(input: EstimateInput): Estimate {
  const demand = Math.max(input.reactive, input.forecast.total);
  const requiredCapacity = demand / input.targetUtilization;
  const minimum: Record<string, number> = {};
  const baseline: Record<string, number> = {};
  let capacity = input.currentCapacity;
  for (const [name, c] of Object.entries(input.classes)) {
    const pinned = ceilServers((input.forecast.byClass[name] ?? 0) / (c.capacity * input.targetUtilization));
    minimum[name] = Math.min(c.max, Math.max(c.min, pinned));
    const current = input.current[name] ?? 0;
    baseline[name] = Math.max(minimum[name], Math.min(current, c.max));
    capacity += (baseline[name] - current) * c.capacity;
  }
  const missing = requiredCapacity - capacity;
  return { demand, requiredCapacity, minimum, baseline, shortfall: missing > EPSILON * Math.max(1, requiredCapacity) ? missing : 0 };
}
