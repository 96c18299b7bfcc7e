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
//    The CPU lags a meeting that ended too: a reading is the average since the previous sample,
//    so when the model load fell since the previous poll, the reading is scaled by what is left
//    of it (cpuNow) — a server whose classes all ended is empty now, not busy for one more poll
//    interval. A rise is never scaled up: the model floor covers the new meetings.
//    Each meeting's measured load is scaled by the same ratio (measuredLoad / model load), so
//    what the polls measured of a meeting keeps summing to the server's measured load and its
//    reservation fades against its share of the CPU, not against the model's smaller figure.
//
// 2. The load model's weights are learned from the same readings (placement/learned-weights.ts):
//    a pool-wide least-squares fit of cpu × capacity on each server's meetings, participants,
//    voice connections and camera streams delivered, pulled toward the policy's weights. Once
//    it has enough evidence, it replaces the policy's weights wherever a load is computed: the
//    poller's measured load (the floor of rule 1), new meetings' reservations (Placer) and the
//    scaler's forecast of announced meetings. A scalar factor could not do this: a class with
//    30 cameras and a webinar with one cost the CPU in different proportions than the model.

/** A CPU reading counts for this many poll intervals after it was taken. */
export const CPU_FRESH_INTERVALS = 3;

/** Measured load in load units (rule 1); `cpu` is the fresh utilization (0..1), or undefined. */
export function measuredServerLoad(modelLoad: number, capacity: number, cpu: number | undefined): number {
  if (cpu === undefined || !Number.isFinite(cpu)) return modelLoad;
  return Math.max(modelLoad, Math.min(1, Math.max(0, cpu)) * capacity);
}

/**
 * The utilization brought to now: `cpu` averages the interval since the previous poll, whose
 * model load was `modelBefore`; meetings that ended since are gone from `modelNow` and should
 * be from the CPU too. Unchanged when the model load did not fall or nothing was known before.
 */
export function cpuNow(cpu: number, modelNow: number, modelBefore: number | undefined): number {
  if (modelBefore === undefined || !(modelBefore > 0) || !(modelNow < modelBefore)) return cpu;
  return cpu * (Math.max(0, modelNow) / modelBefore);
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
