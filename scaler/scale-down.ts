// Which server to remove, and when (cluster-autoscaler's scale-down). Removal is two steps so no
// meeting is ever cut: cordon (placement stops sending meetings; the ones there run on), then
// delete once a poll after the cordon finds it empty.
import type { ScalerServer } from './servers.js';

/**
 * Whether the scaler may start draining `s`: a server it created, in service, and at least
 * `minLifetime` old (a server just booted is the likeliest to be needed again; clouds bill a
 * minimum too).
 */
export function mayDrain(s: ScalerServer, now: number, minLifetimeMs: number): boolean {
  return s.managed && s.phase === 'ready' && now - s.startedAt >= minLifetimeMs;
}

/**
 * Cheapest to remove first: fewest participants (fewest people whose meeting must end before it
 * goes), then fewest meetings, then no recording being processed; among equals the larger server
 * (one action saves more), then the older one, then by id so the choice is reproducible.
 */
export function byRemovalCost(a: ScalerServer, b: ScalerServer): number {
  return (
    a.participants - b.participants ||
    a.meetings - b.meetings ||
    a.recordingsProcessing - b.recordingsProcessing ||
    b.capacity - a.capacity ||
    a.startedAt - b.startedAt ||
    a.id.localeCompare(b.id)
  );
}

/**
 * Whether a draining server may be deleted: nothing on it (no meeting, participant, reservation
 * of a meeting being created, recording being processed) as measured by a poll made after its
 * cordon, since a meeting placed just before the cordon is only seen by a later poll.
 */
export function isDrained(s: ScalerServer): boolean {
  return (
    s.managed &&
    s.phase === 'draining' &&
    s.polledAt > s.phaseSince &&
    s.meetings === 0 &&
    s.participants === 0 &&
    s.reservedLoad === 0 &&
    s.recordingsProcessing === 0
  );
}

export interface DrainChoice {
  /** Servers to cordon, cheapest first. */
  drain: ScalerServer[];
  /** Why servers that could have gone did not (the concurrency limit). */
  held: string[];
}

export interface DrainInput {
  /** Servers that may be drained (mayDrain), any order. */
  candidates: readonly ScalerServer[];
  /** Servers to drain per class whatever the demand (the class is above its max). */
  excess: Readonly<Record<string, number>>;
  /** Whether the demand lets servers go (cooldowns over, nothing being added). */
  voluntary: boolean;
  /** Capacity of the ready and booting servers. */
  capacity: number;
  /** Capacity the pool must keep: demand ÷ scale-in utilization. */
  keepCapacity: number;
  /** Servers per class, and the fewest each class may keep. */
  count: Readonly<Record<string, number>>;
  minimum: Readonly<Record<string, number>>;
  /** Drains that may start now (the concurrency limit less those in flight). */
  slots: number;
  /**
   * Whether the servers left once `drained` go still have room for the large meetings expected
   * (plan.ts); absent: no large meeting expected. Voluntary drains only.
   */
  keepsRooms?: (drained: ReadonlySet<ScalerServer>) => boolean;
}

/**
 * First the classes above their max, then, when `voluntary`, every server the pool can do
 * without: one whose capacity the pool keeps beyond `keepCapacity` without it, in a class that
 * stays at or above its minimum. Past the slots, servers are counted as if drained, so `held`
 * says how many more would go.
 */
export function chooseDrains(input: DrainInput): DrainChoice {
  const order = [...input.candidates].sort(byRemovalCost);
  const count = { ...input.count };
  const excess = { ...input.excess };
  const chosen = new Set<ScalerServer>();
  const drain: ScalerServer[] = [];
  let capacity = input.capacity;
  const take = (s: ScalerServer) => {
    chosen.add(s);
    if (drain.length < input.slots) drain.push(s);
    count[s.sizeClass] = (count[s.sizeClass] ?? 0) - 1;
    capacity -= s.capacity;
  };
  for (const s of order) {
    if ((excess[s.sizeClass] ?? 0) <= 0) continue;
    excess[s.sizeClass]!--;
    take(s);
  }
  if (input.voluntary) {
    for (const s of order) {
      if (chosen.has(s) || (count[s.sizeClass] ?? 0) - 1 < (input.minimum[s.sizeClass] ?? 0)) continue;
      if (capacity - s.capacity < input.keepCapacity) continue;
      if (input.keepsRooms && !input.keepsRooms(new Set([...chosen, s]))) continue;
      take(s);
    }
  }
  const held: string[] = [];
  if (chosen.size > drain.length) held.push(`${chosen.size - drain.length} more server(s) could be drained: at most ${input.slots} drain(s) may start now`);
  for (const [cls, n] of Object.entries(excess)) {
    if (n > 0) held.push(`class ${cls} is ${n} server(s) above its max that may not be drained yet (booting, younger than the minimum lifetime, or not created by the scaler)`);
  }
  return { drain, held };
}
