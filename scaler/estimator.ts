// How much capacity the pool needs (cluster-autoscaler's "estimator"): the demand, reactive
// and forecast, turned into capacity at the target utilization, and how many servers of each
// class stand before the expander covers what is still missing.
import type { Demand, LargeDemand } from './forecast/demand.js';
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

/**
 * New servers of `serverRoom` units each that the `loads` need so that each finds room for it
 * whole, placed as the gateway places a large meeting: in the order they come, each on the
 * roomiest server (placement/choose.ts). Not a best packing: a small webinar that comes first
 * takes the big room a later, larger one needed, and the pool must be ready for that.
 *
 * The first `soon` come before a new server could be ready: they take the roomiest rooms there
 * are, fitting or not, and ask for nothing. A meeting larger than a new server's room is left
 * out: no server holds it within the fill ceiling, so new ones would not help (placement gives it
 * the roomiest there is).
 */
export function serversForLarge(loads: readonly number[], rooms: readonly number[], serverRoom: number, soon = 0): number {
  // Ascending: the roomiest is last, and what is left of it goes back in order.
  const free = [...rooms].sort((a, b) => a - b);
  const take = (into: number[], load: number): boolean => {
    const roomiest = into.pop();
    if (roomiest === undefined) return false;
    into.splice(firstAtLeast(into, Math.max(0, roomiest - load)), 0, Math.max(0, roomiest - load));
    return roomiest >= load;
  };
  for (const load of loads.slice(0, soon)) take(free, load);
  const later = loads.slice(soon).filter((l) => l <= serverRoom);
  const fitWith = (added: number) => {
    const into = [...free, ...Array<number>(added).fill(serverRoom)].sort((a, b) => a - b);
    return later.every((load) => take(into, load));
  };
  for (let added = 0; added < later.length; added++) if (fitWith(added)) return added;
  return later.length;
}

/** The index of the first of the ascending `sorted` that is at least `x` (its length: none). */
function firstAtLeast(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
  /**
   * Room each server placement may use now holds for a new meeting (capacity × placement's fill
   * ceiling, less what will still run when the forecast's large meetings come), and that ceiling.
   */
  rooms: readonly number[];
  fill: number;
}

/** Servers added so that each large meeting the forecast expects finds one with room for it. */
export interface Holes {
  sizeClass: string;
  count: number;
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
  /** New servers, beyond the baseline, so that the forecast's large meetings find room (count 0: none). */
  holes: Holes;
  /** Capacity still missing with the baseline and the holes, for the expander to cover (0: none). */
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
  const holes = holesFor(input, baseline);
  capacity += holes.count * (input.classes[holes.sizeClass]?.capacity ?? 0);
  const missing = requiredCapacity - capacity;
  return { demand, requiredCapacity, minimum, baseline, holes, shortfall: missing > EPSILON * Math.max(1, requiredCapacity) ? missing : 0 };
}

/** The class whose servers hold the most (by name among equals): where room for large meetings is added. */
function largestClass<T extends { capacity: number }>(classes: Readonly<Record<string, T>>): [string, T] | undefined {
  return Object.entries(classes).sort((a, b) => b[1].capacity - a[1].capacity || a[0].localeCompare(b[0]))[0];
}

/** The room a new server of the largest class has for a meeting under placement's fill ceiling (0: no class). */
export function newServerRoom(classes: Readonly<Record<string, { capacity: number }>>, fill: number): number {
  return (largestClass(classes)?.[1].capacity ?? 0) * fill;
}

/**
 * Below this share of today's load still running when they come (a change of lesson), the
 * forecast's large meetings ask for no room of their own: the servers empty first and the demand
 * sizes the pool, and rehearsing roomiest-first placement over nearly empty servers would ask for
 * about one server per meeting. Room matters for those that come into a pool that stays full.
 */
export const LARGE_ROOM_MIN_REMAINING = 0.5;

/** The forecast's large meetings that need room kept for them (LARGE_ROOM_MIN_REMAINING), if any. */
export function largeNeedingRoom(forecast: Demand): LargeDemand | undefined {
  const large = forecast.large;
  return large && large.loads.length > 0 && large.remaining >= LARGE_ROOM_MIN_REMAINING ? large : undefined;
}

/**
 * In the largest class, the fewest new servers so that the large meetings fit, counting the
 * servers the baseline adds as empty rooms; at most its max.
 */
function holesFor(input: EstimateInput, baseline: Readonly<Record<string, number>>): Holes {
  const largest = largestClass(input.classes);
  const large = largeNeedingRoom(input.forecast);
  const loads = large?.loads ?? [];
  if (largest === undefined || loads.length === 0) return { sizeClass: largest?.[0] ?? '', count: 0 };
  const rooms = [...input.rooms];
  for (const [name, c] of Object.entries(input.classes)) {
    for (let i = (input.current[name] ?? 0); i < baseline[name]!; i++) rooms.push(c.capacity * input.fill);
  }
  const [name, c] = largest;
  return { sizeClass: name, count: Math.min(Math.max(0, c.max - baseline[name]!), serversForLarge(loads, rooms, newServerRoom(input.classes, input.fill), large?.soon)) };
}
