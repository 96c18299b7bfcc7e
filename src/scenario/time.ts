// Accelerated time for the scenario, at a speed that varies over the morning: fast while little
// happens, slowed down where the timetable is dense (the bell waves), so the traffic the machine
// must carry per real second stays bounded and every user joins on time. One constant speed
// cannot do both on two cores: 30,000 pupils arriving in the first minutes of a lesson at 50×
// is some 8,000 joins a real second.
//
// Everything that reads a time of day or waits a simulated duration (the scaler, the forecast,
// the demand history, the simulated provider's boots, the simulated servers' meeting clocks, the
// traffic driver, the minute samples) goes through one ScenarioClock built from the same
// profile. The gateway and the poller run on the wall clock with settings in real ms, chosen by
// the scenario from the profile (src/scenario/run.ts). Pure.

import type { TrafficEvent } from '../traffic/model.js';

/** From simulated offset `from` (ms after the start) on, the clock runs at `speed` simulated ms per real ms. */
export interface SpeedSegment {
  from: number;
  speed: number;
}

export class ScenarioClock {
  private wallStart = Number.NaN;
  private readonly segments: readonly SpeedSegment[];
  private readonly simFrom: readonly number[];
  /** Real ms after the start at which each segment begins. */
  private readonly realFrom: readonly number[];

  /**
   * `simStart`: the simulated instant (epoch ms) at which the run starts; `profile`: one speed
   * (simulated ms per real ms) or segments, the first from 0, in increasing order.
   */
  constructor(
    readonly simStart: number,
    profile: number | readonly SpeedSegment[],
  ) {
    const segments = typeof profile === 'number' ? [{ from: 0, speed: profile }] : profile;
    if (segments.length === 0 || segments[0]!.from !== 0) throw new RangeError('a speed profile starts at 0');
    const realFrom = [0];
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      if (!(s.speed > 0) || !Number.isFinite(s.speed)) throw new RangeError(`speed must be positive, not ${s.speed}`);
      const next = segments[i + 1];
      if (next === undefined) break;
      if (!(next.from > s.from)) throw new RangeError('speed segments must be in increasing order');
      realFrom.push(realFrom[i]! + (next.from - s.from) / s.speed);
    }
    this.segments = segments;
    this.simFrom = segments.map((s) => s.from);
    this.realFrom = realFrom;
  }

  /** The segments (one for a constant speed). */
  get profile(): readonly SpeedSegment[] {
    return this.segments;
  }

  /** The lowest and highest speeds of the profile. */
  get speedRange(): { min: number; max: number } {
    const speeds = this.segments.map((s) => s.speed);
    return { min: Math.min(...speeds), max: Math.max(...speeds) };
  }

  /** Pins the start to wall instant `wall` (ms); before that the clock reads the start. */
  start(wall: number): void {
    this.wallStart = wall;
  }

  /** Simulated ms since the start, at wall instant `wall`. */
  elapsed(wall: number): number {
    if (Number.isNaN(this.wallStart)) return 0;
    const real = Math.max(0, wall - this.wallStart);
    const i = lastAtOrBefore(this.realFrom, real);
    const s = this.segments[i]!;
    return s.from + (real - this.realFrom[i]!) * s.speed;
  }

  /** The speed at wall instant `wall`. */
  speedAt(wall: number): number {
    return this.segments[lastAtOrBefore(this.simFrom, this.elapsed(wall))]!.speed;
  }

  /** The simulated instant (epoch ms) at wall instant `wall`. */
  at(wall: number): number {
    return this.simStart + this.elapsed(wall);
  }

  /** Real ms after the start at which the clock reads simulated offset `sim` (ms after the start). */
  real(sim: number): number {
    const t = Math.max(0, sim);
    const i = lastAtOrBefore(this.simFrom, t);
    const s = this.segments[i]!;
    return this.realFrom[i]! + (t - s.from) / s.speed;
  }

  /** Real ms that `simMs` simulated ms take from wall instant `wall` on (from the start before start()). */
  realDuration(simMs: number, wall: number): number {
    const from = this.elapsed(wall);
    return this.real(from + simMs) - this.real(from);
  }

  /** The wall instant at which the clock reads simulated instant `simInstant` (epoch ms); needs start(). */
  wallAt(simInstant: number): number {
    return this.wallStart + this.real(simInstant - this.simStart);
  }
}

function lastAtOrBefore(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface SpeedProfileOptions {
  /** The fastest the clock runs (simulated ms per real ms). */
  maxSpeed: number;
  /** Events a real second the clock slows down to at most. */
  eventsPerSecond: number;
  /** The simulated length to cover (ms). */
  lengthMs: number;
  /** The step the density is counted in (ms). Default one minute. */
  stepMs?: number;
  /** How many events each entry of `at` counts for (same order; default 1 each). */
  weights?: readonly number[];
}

/**
 * The speeds for a timetable: each step as fast as `maxSpeed` allows while it plays at most
 * `eventsPerSecond` events a real second. `at`: each event's simulated offset (ms), counted
 * `weights[i]` times. Equal neighbours merge into one segment.
 */
export function speedProfile(at: readonly number[], opts: SpeedProfileOptions): SpeedSegment[] {
  if (!(opts.maxSpeed > 0) || !(opts.eventsPerSecond > 0)) throw new RangeError('maxSpeed and eventsPerSecond must be positive');
  const step = opts.stepMs ?? 60_000;
  const steps = Math.max(1, Math.ceil(opts.lengthMs / step));
  const counts = new Array<number>(steps).fill(0);
  at.forEach((t, k) => {
    const i = Math.floor(t / step);
    if (i >= 0 && i < steps) counts[i]! += opts.weights?.[k] ?? 1;
  });
  const segments: SpeedSegment[] = [];
  for (let i = 0; i < steps; i++) {
    // A step of `step` simulated ms holding n events takes n / rate real seconds at least.
    const n = counts[i]!;
    const speed = n === 0 ? opts.maxSpeed : Math.min(opts.maxSpeed, step / ((n / opts.eventsPerSecond) * 1000));
    if (segments.length > 0 && segments[segments.length - 1]!.speed === speed) continue;
    segments.push({ from: i * step, speed });
  }
  return segments;
}

/**
 * What one `end` counts for in the clock's event rate. An end takes a whole class out at once:
 * at 100× the poller's round and the scaler's step would span minutes of the lesson's end, and
 * the pool would still look full when the next, smaller wave is created (at noon its classes
 * landed on servers the scaler was about to drain). Counted this way, the ends of a lesson play
 * at about 20×.
 */
export const END_WEIGHT = 8;

/** How many events a traffic event counts for in speedProfile's rate. */
export function clockWeight(e: Pick<TrafficEvent, 'kind'>): number {
  return e.kind === 'end' ? END_WEIGHT : 1;
}

/** A simulated duration as whole wall ms at `speed`, at least 1 (what settings and timers take). */
export function acceleratedMs(ms: number, speed: number): number {
  return Math.max(1, Math.round(ms / speed));
}
