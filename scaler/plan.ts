// One reconcile step as a pure function: from the pool as it is (servers and the actions in
// flight), the settings and the clock, the actions to take now, each with the reason the
// structured log records. The caller carries them out (BullMQ jobs) and records when it last
// scaled out and in.
import { forecastWindowMs, type ScalerConfig } from './config.js';
import { estimate, largeNeedingRoom, newServerRoom, reactiveDemand, serverDemand, serversForLarge } from './estimator.js';
import { expand } from './expander.js';
import type { Demand, DemandSource } from './forecast/demand.js';
import { chooseDrains, isDrained, mayDrain } from './scale-down.js';
import type { ScalerServer } from './servers.js';

export type ScaleAction =
  | { type: 'provision'; sizeClass: string; count: number; reason: string }
  /** Back into service: a server being drained is capacity at once, a new one in minutes. */
  | { type: 'uncordon'; server: string; reason: string }
  | { type: 'cordon'; server: string; reason: string }
  | { type: 'delete'; server: string; reason: string };

export interface ScalerState {
  servers: readonly ScalerServer[];
  /** Every forecast source, combined (forecast/demand.ts maxOfSources). */
  forecast: DemandSource;
  /** When the scaler last asked for a server, and last cordoned one (ms; 0: never). */
  lastScaleOutAt: number;
  lastScaleInAt: number;
  /** The share of a server's capacity placement fills while another has room (AMPHI_PLACEMENT_MAX_FILL). */
  placementFill: number;
}

export interface Plan {
  actions: ScaleAction[];
  /** Servers wanted per scaled class once these actions are done (ready and booting). */
  desired: Record<string, number>;
  /** Load units held now. */
  reactive: number;
  /** Peak forecast until the servers asked for now and at the next step are ready. */
  forecast: Demand;
  /** Capacity that holds the larger of the two at the target utilization. */
  requiredCapacity: number;
  /** What held actions back (cooldowns, concurrency limits, class maxima), for logs and --dry-run. */
  held: string[];
}

const units = (x: number) => `${Math.round(x)} units`;
const percent = (x: number) => `${Math.round(x * 100)} %`;
const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
const occupancy = (s: ScalerServer) => `${s.participants} participant(s), ${s.meetings} meeting(s), ${s.recordingsProcessing} recording(s) processing`;

export function plan(state: ScalerState, config: ScalerConfig, now: number): Plan {
  const { classes } = config;
  const scaled = (s: ScalerServer) => Object.hasOwn(classes, s.sizeClass);
  const inService = state.servers.filter((s) => s.phase === 'ready' || s.phase === 'booting');
  const booting = inService.filter((s) => s.phase === 'booting').length;
  const current: Record<string, number> = Object.fromEntries(Object.keys(classes).map((c) => [c, 0]));
  for (const s of inService) if (scaled(s)) current[s.sizeClass]!++;
  let currentCapacity = inService.reduce((sum, s) => sum + s.capacity, 0);

  const reactive = reactiveDemand(state.servers);
  // Servers asked for now are ready in one provisioning time, and should be so leadTime before
  // the demand; those of the next step one interval later: this step covers the demand until then.
  const forecast = state.forecast.demand(now, now + forecastWindowMs(config));
  // Room for one more meeting on each server placement may use (booting ones are empty), with
  // what ends before the forecast's large meetings come taken off.
  const fill = state.placementFill;
  const large = largeNeedingRoom(forecast);
  const remaining = large?.remaining ?? 1;
  const roomOf = (s: ScalerServer) => s.capacity * fill - (s.phase === 'booting' ? 0 : remaining * serverDemand(s));
  const roomServers = inService.slice();
  const estimateNow = () =>
    estimate({ classes, targetUtilization: config.targetUtilization, reactive, forecast, current, currentCapacity, rooms: roomServers.map(roomOf), fill });
  let est = estimateNow();
  const demandText = () =>
    `demand ${units(est.demand)} (${reactive >= forecast.total ? 'measured' : `forecast by ${forecast.source}`}) needs ${units(est.requiredCapacity)} at ${percent(config.targetUtilization)}`;
  const minimumText = (c: string) =>
    est.minimum[c] === classes[c]!.min
      ? `class ${c} is below its min ${classes[c]!.min} (has ${current[c]})`
      : `class ${c} needs ${est.minimum[c]} server(s) for the ${units(forecast.byClass[c] ?? 0)} only it can hold (has ${current[c]})`;
  const largeText = (c: string) => {
    const loads = large?.loads ?? [];
    return `${loads.length} large meeting(s) of up to ${units(Math.max(...loads))} expected by ${large?.source} find no server with that much room (${percent(remaining)} of today's load still running then): ${est.holes.count} new server(s) of class ${c}`;
  };
  const actions: ScaleAction[] = [];
  const held: string[] = [];

  // 1. Servers being drained come back before any new one is asked for.
  const draining = state.servers.filter((s) => s.phase === 'draining').sort((a, b) => b.participants - a.participants || a.id.localeCompare(b.id));
  const uncordoned = new Set<ScalerServer>();
  for (const s of draining) {
    if (!scaled(s)) continue;
    const c = s.sizeClass;
    const belowMinimum = est.minimum[c]! > current[c]!;
    if (!belowMinimum && !(est.shortfall > 0 && current[c]! < classes[c]!.max)) continue;
    const reason = belowMinimum ? minimumText(c) : `${demandText()}; ${units(est.shortfall)} short: back in service rather than a new server`;
    actions.push({ type: 'uncordon', server: s.id, reason });
    uncordoned.add(s);
    roomServers.push(s);
    current[c]!++;
    currentCapacity += s.capacity;
    est = estimateNow();
  }

  // 2. New servers: class minima first, then the expander's cover of the pool-wide shortfall.
  const additions = expand(
    est.shortfall,
    Object.entries(classes).map(([c, k]) => ({ sizeClass: c, capacity: k.capacity, cost: k.cost, room: k.max - est.baseline[c]! })),
  );
  const desired: Record<string, number> = {};
  const holes = (c: string) => (est.holes.sizeClass === c ? est.holes.count : 0);
  for (const c of Object.keys(classes)) desired[c] = est.baseline[c]! + holes(c) + (additions[c] ?? 0);
  const covered = Object.entries(additions).reduce((sum, [c, n]) => sum + n * classes[c]!.capacity, 0);
  if (covered < est.shortfall) held.push(`${units(est.shortfall - covered)} of capacity missing: every class that could hold it is at its max`);

  let slots = Math.max(0, config.maxConcurrent.provisions - booting);
  const toMinimum: Record<string, number> = {};
  const toHoles: Record<string, number> = {};
  const toCover: Record<string, number> = {};
  for (const c of Object.keys(classes)) {
    toMinimum[c] = Math.min(slots, Math.max(0, est.baseline[c]! - current[c]!));
    slots -= toMinimum[c];
  }
  for (const c of Object.keys(classes)) {
    toHoles[c] = Math.min(slots, holes(c));
    slots -= toHoles[c];
  }
  // With few slots, the largest servers first: capacity grows fastest per server booting.
  for (const c of Object.keys(classes).sort((a, b) => classes[b]!.capacity - classes[a]!.capacity)) {
    toCover[c] = Math.min(slots, additions[c] ?? 0);
    slots -= toCover[c];
  }
  let wanted = 0;
  for (const c of Object.keys(classes)) {
    wanted += Math.max(0, desired[c]! - current[c]!);
    const count = toMinimum[c]! + toHoles[c]! + toCover[c]!;
    if (count === 0) continue;
    const why = [
      toMinimum[c]! > 0 ? minimumText(c) : '',
      toHoles[c]! > 0 ? largeText(c) : '',
      toCover[c]! > 0 ? `${demandText()}; ${units(est.shortfall)} short, ${toCover[c]} of class ${c} in the cheapest cover` : '',
    ];
    actions.push({ type: 'provision', sizeClass: c, count, reason: why.filter(Boolean).join('; ') });
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const provisioned = sum(toMinimum) + sum(toHoles) + sum(toCover);
  if (provisioned < wanted) held.push(`${wanted - provisioned} more server(s) wanted: at most ${config.maxConcurrent.provisions} may boot at once (${booting} booting)`);

  // 3. Drained servers go.
  for (const s of draining) {
    if (!uncordoned.has(s) && isDrained(s)) {
      actions.push({ type: 'delete', server: s.id, reason: 'drained: a poll after its cordon found no meeting, participant, reservation or recording' });
    }
  }

  // 4. Servers to drain: classes above their max always; otherwise only when the pool is not
  // growing and the cooldowns are over. Scale-out is never held by a cooldown. A class raised to
  // its minimum is not growth: a class that cannot get its servers must not keep the others big.
  const inFlight = draining.length - uncordoned.size + state.servers.filter((s) => s.phase === 'deleting').length;
  const excess: Record<string, number> = {};
  for (const c of Object.keys(classes)) excess[c] = Math.max(0, current[c]! - desired[c]!);
  const growing = est.shortfall > 0 || est.holes.count > 0 || uncordoned.size > 0 || booting > 0;
  const sinceOut = now - state.lastScaleOutAt;
  const sinceIn = now - state.lastScaleInAt;
  const cooling =
    sinceOut < config.cooldowns.scaleInAfterScaleOut
      ? `${minutes(sinceOut)} since the last scale-out (cooldown ${minutes(config.cooldowns.scaleInAfterScaleOut)})`
      : sinceIn < config.cooldowns.scaleInAfterScaleIn
        ? `${minutes(sinceIn)} since the last scale-in (cooldown ${minutes(config.cooldowns.scaleInAfterScaleIn)})`
        : '';
  const drainInput = {
    candidates: inService.filter((s) => scaled(s) && mayDrain(s, now, config.minLifetime)),
    excess,
    capacity: currentCapacity,
    keepCapacity: est.demand / config.scaleInUtilization,
    count: current,
    minimum: est.minimum,
    slots: Math.max(0, config.maxConcurrent.drains - inFlight),
    // The forecast's large meetings must still find room without the servers drained.
    ...(large && {
      keepsRooms: (drained: ReadonlySet<ScalerServer>) =>
        serversForLarge(large.loads, roomServers.filter((s) => !drained.has(s)).map(roomOf), newServerRoom(classes, fill), large.soon) === 0,
    }),
  };
  const choice = chooseDrains({ ...drainInput, voluntary: !growing && cooling === '' });
  held.push(...choice.held);
  if (!growing && cooling !== '') {
    const surplus = chooseDrains({ ...drainInput, excess: {}, voluntary: true, slots: Infinity }).drain.length;
    if (surplus > 0) held.push(`${surplus} server(s) not needed, scale-in held: ${cooling}`);
  }
  const forcedLeft = { ...excess };
  for (const s of choice.drain) {
    const c = s.sizeClass;
    let reason: string;
    if (forcedLeft[c]! > 0) {
      forcedLeft[c]!--;
      reason = `class ${c} is above its max ${classes[c]!.max}: cheapest of its servers to drain (${occupancy(s)})`;
    } else {
      desired[c]!--;
      reason = `demand ${units(est.demand)} keeps the pool at or below ${percent(config.scaleInUtilization)} without it: cheapest to drain (${occupancy(s)})`;
    }
    actions.push({ type: 'cordon', server: s.id, reason });
  }

  return { actions, desired, reactive, forecast, requiredCapacity: est.requiredCapacity, held };
}
