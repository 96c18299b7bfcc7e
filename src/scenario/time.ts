// Accelerated time for the scenario. The pool runs on the wall clock, with every duration the
// scaler, the poller and the gateway wait divided by the speed; only what reads a time of day
// (the forecast, the demand history, the simulated servers' meeting clocks) sees the simulated
// morning, through ScenarioClock. Pure.
import type { ScalerConfig } from '../../scaler/config.js';

export class ScenarioClock {
  private wallStart = Number.NaN;

  /** `simStart`: the simulated instant (epoch ms) at which the run starts; `speed`: simulated ms per real ms. */
  constructor(
    readonly simStart: number,
    readonly speed: number,
  ) {
    if (!(speed > 0)) throw new RangeError(`speed must be positive, not ${speed}`);
  }

  /** Pins the start to wall instant `wall` (ms); before that the clock reads the start. */
  start(wall: number): void {
    this.wallStart = wall;
  }

  /** Simulated ms since the start, at wall instant `wall`. */
  elapsed(wall: number): number {
    return Number.isNaN(this.wallStart) ? 0 : Math.max(0, (wall - this.wallStart) * this.speed);
  }

  /** The simulated instant (epoch ms) at wall instant `wall`. */
  at(wall: number): number {
    return this.simStart + this.elapsed(wall);
  }

  /** A simulated duration as wall ms. */
  real(simMs: number): number {
    return simMs / this.speed;
  }
}

/** A simulated duration as whole wall ms, at least 1 (what settings and timers take). */
export function acceleratedMs(ms: number, speed: number): number {
  return Math.max(1, Math.round(ms / speed));
}

/** The scaler's settings with every duration divided by `speed`: the same decisions, sooner. */
export function acceleratedConfig(config: ScalerConfig, speed: number): ScalerConfig {
  const fast = (ms: number) => acceleratedMs(ms, speed);
  return {
    ...config,
    provisioningTime: fast(config.provisioningTime),
    leadTime: fast(config.leadTime),
    reconcileInterval: fast(config.reconcileInterval),
    minLifetime: fast(config.minLifetime),
    cooldowns: { scaleInAfterScaleOut: fast(config.cooldowns.scaleInAfterScaleOut), scaleInAfterScaleIn: fast(config.cooldowns.scaleInAfterScaleIn) },
    announced: { ...config.announced, defaultDuration: fast(config.announced.defaultDuration) },
  };
}
