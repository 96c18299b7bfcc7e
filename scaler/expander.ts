// Which size class to add for a shortfall (cluster-autoscaler's "expander"). The rule: the
// cheapest set of servers that covers it; among equally cheap sets the fewest servers, then the
// least capacity beyond the shortfall. With the default costs (proportional to capacity) that is
// the least waste, then the fewest servers: 600 units are a standard and a small server, not a
// large one nor three small ones.

export interface ClassOption {
  sizeClass: string;
  capacity: number;
  /** Price of one server (config `cost`). */
  cost: number;
  /** How many more servers of this class the class's max allows. */
  room: number;
}

interface Cover {
  counts: number[];
  cost: number;
  servers: number;
  capacity: number;
}

const better = (a: Cover, b: Cover) => a.cost !== b.cost ? a.cost < b.cost : a.servers !== b.servers ? a.servers < b.servers : a.capacity < b.capacity;

/** The best cover of `shortfall` by enumeration; only called on a span of a few servers. */
function bestCover(shortfall: number, options: readonly ClassOption[]): number[] {
  const counts = options.map(() => 0);
  let best: Cover | undefined;
  const visit = (i: number, capacity: number, cost: number, servers: number) => {
    if (capacity >= shortfall) {
      const cover = { counts: [...counts], cost, servers, capacity };
      if (!best || better(cover, best)) best = cover;
      return;
    }
    if (i === options.length) return;
    const o = options[i]!;
    const most = Math.min(o.room, Math.ceil((shortfall - capacity) / o.capacity));
    for (let n = 0; n <= most; n++) {
      counts[i] = n;
      visit(i + 1, capacity + n * o.capacity, cost + n * o.cost, servers + n);
    }
    counts[i] = 0;
  };
  visit(0, 0, 0, 0);
  return best!.counts; // the caller checked that the rooms cover the shortfall
}

/**
 * Servers to add per class to cover `shortfall` load units, within each class's room. When the
 * rooms cannot cover it, every room is filled (as much as the maxima allow). Large shortfalls
 * are first filled with the class of the lowest cost per unit (ties: the larger class, fewer
 * servers); the last two largest servers' worth is chosen exactly.
 */
export function expand(shortfall: number, options: readonly ClassOption[]): Record<string, number> {
  const open = options.filter((o) => o.room > 0 && o.capacity > 0).map((o) => ({ ...o }));
  const added: Record<string, number> = {};
  if (shortfall <= 0 || open.length === 0) return added;
  const add = (o: ClassOption, n: number) => {
    if (n > 0) added[o.sizeClass] = (added[o.sizeClass] ?? 0) + n;
  };
  if (open.reduce((sum, o) => sum + o.room * o.capacity, 0) <= shortfall) {
    for (const o of open) add(o, o.room);
    return added;
  }
  const span = 2 * Math.max(...open.map((o) => o.capacity));
  const perUnit = [...open].sort((a, b) => a.cost / a.capacity - b.cost / b.capacity || b.capacity - a.capacity || a.sizeClass.localeCompare(b.sizeClass));
  let rest = shortfall;
  while (rest > span) {
    // The rooms still cover `rest`: each server taken lowers both by its capacity.
    const o = perUnit.find((c) => c.room > 0)!;
    const n = Math.min(o.room, Math.ceil((rest - span) / o.capacity));
    add(o, n);
    o.room -= n;
    rest -= n * o.capacity;
  }
  const tail = perUnit.filter((o) => o.room > 0);
  bestCover(rest, tail).forEach((n, i) => add(tail[i]!, n));
  return added;
}
