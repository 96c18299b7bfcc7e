// Where servers report their CPU (node_exporter, read by the poller: poller/node-cpu.ts), the
// load placement and the scaler see is what the server says, not only what Amphi's load model
// estimates. The grader is never the graded: the model is Amphi's guess, the CPU is the
// server's own account. Pure; this file owns both rules below, everyone else reads their result.
//
// 1. Measured load of a server (written by the poller as the server's `measuredLoad`, read as
//    is by placement — place-meeting.lua, Store.snapshot — the scaler and the metrics):
//
//        measuredLoad = max(model load, cpu × capacity)     when the CPU is fresh
//        measuredLoad = model load                          otherwise
//
//    fresh: sampled by one of the last CPU_FRESH_INTERVALS polls. The model is kept as a floor:
//    CPU lags a meeting that just started, and a server that under-reports must not look empty.
//    Each meeting's measured load is scaled by the same ratio (measuredLoad / model load), so
//    what the polls measured of a meeting keeps summing to the server's measured load and its
//    reservation fades against its share of the CPU, not against the model's smaller figure.
//
// 2. Calibration of new meetings' reservations. A new meeting reserves its expected load from
//    the model; where the model under-estimates the CPU, so does the reservation. The poller
//    learns a pool-wide factor:
//
//        sample = Σ (cpu × capacity) / Σ model load
//                 over servers with a fresh CPU whose model load is ≥ 5 % of their capacity
//                 (below that, the CPU is mostly the host's own idle work, not meetings)
//        factor ← factor + α (sample − factor),  α = 1 − exp(−Δt / τ)  (an EWMA in time, so it
//                 smooths the same whatever the number of poller replicas or their rounds)
//        factor, sample ∈ [1, 4]: a reservation is never less than the model's
//
//    stored in Redis (PollWriter.updateCalibration) and applied at placement: the need passed
//    to the ranking and to place-meeting.lua is the model's expected load × factor.

/** A CPU reading counts for this many poll intervals after it was taken. */
export const CPU_FRESH_INTERVALS = 3;

/** Measured load in load units (rule 1); `cpu` is the fresh utilization (0..1), or undefined. */
export function measuredServerLoad(modelLoad: number, capacity: number, cpu: number | undefined): number {
  if (cpu === undefined || !Number.isFinite(cpu)) return modelLoad;
  return Math.max(modelLoad, Math.min(1, Math.max(0, cpu)) * capacity);
}

/** The utilization when it was sampled within `freshMs` of `now`, else undefined. */
export function freshCpu(cpu: number | undefined, cpuAt: number | undefined, now: number, freshMs: number): number | undefined {
  if (cpu === undefined || cpuAt === undefined || !Number.isFinite(cpu)) return undefined;
  return now - cpuAt <= freshMs ? cpu : undefined;
}

/** What each meeting's model load is multiplied by so that they sum to the measured load. */
export function meetingScale(modelLoad: number, measuredLoad: number): number {
  return modelLoad > 0 && measuredLoad > modelLoad ? measuredLoad / modelLoad : 1;
}

export interface Calibration {
  factor: number;
  /** When the last sample was folded in (ms). */
  at: number;
}

export const CALIBRATION_MIN = 1;
export const CALIBRATION_MAX = 4;
/** Servers whose model load is below this share of their capacity say too little. */
export const CALIBRATION_MIN_MODEL_SHARE = 0.05;
/** The EWMA's time constant: a step in the sample is 63 % in after this long. */
export const CALIBRATION_TAU_MS = 5 * 60_000;
/** A factor not fed for this long is not applied (no server reports CPU any more). */
export const CALIBRATION_MAX_AGE_MS = 24 * 60 * 60_000;

export interface CalibrationServer {
  modelLoad: number;
  capacity: number;
  /** Fresh utilization 0..1, or undefined (not reporting, or stale). */
  cpu: number | undefined;
}

const bound = (x: number): number => Math.min(CALIBRATION_MAX, Math.max(CALIBRATION_MIN, x));

/** Σ(cpu × capacity) / Σ(model load) over the meaningful servers; undefined when there are none. */
export function calibrationSample(servers: Iterable<CalibrationServer>): number | undefined {
  let byCpu = 0;
  let byModel = 0;
  for (const s of servers) {
    if (s.cpu === undefined || !Number.isFinite(s.cpu) || !(s.capacity > 0)) continue;
    if (!(s.modelLoad >= CALIBRATION_MIN_MODEL_SHARE * s.capacity)) continue;
    byCpu += Math.min(1, Math.max(0, s.cpu)) * s.capacity;
    byModel += s.modelLoad;
  }
  return byModel > 0 ? byCpu / byModel : undefined;
}

/**
 * The factor after folding in `sample` at `now`. Without a previous factor it starts from 1
 * (the model) as if a whole τ had passed; a longer gap counts as one τ too (the new evidence
 * weighs 63 %, never all).
 */
export function nextCalibration(prev: Calibration | undefined, sample: number, now: number, tauMs = CALIBRATION_TAU_MS): Calibration {
  const from = prev === undefined || !Number.isFinite(prev.factor) ? CALIBRATION_MIN : bound(prev.factor);
  const dt = prev === undefined ? tauMs : Math.min(tauMs, Math.max(0, now - prev.at));
  const alpha = 1 - Math.exp(-dt / tauMs);
  return { factor: bound(from + alpha * (bound(sample) - from)), at: Math.max(now, prev?.at ?? now) };
}

/** The factor placement applies: 1 when none was learned or it is too old, else within the bounds. */
export function calibrationFactor(c: Calibration | undefined, now: number): number {
  if (c === undefined || !Number.isFinite(c.factor) || now - c.at > CALIBRATION_MAX_AGE_MS) return 1;
  return bound(c.factor);
}
