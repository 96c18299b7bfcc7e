// Demand ahead of time, from any number of sources behind one interface, so that each source
// (schedule, learned weekly profile, announced meetings, later the JSON API's bookings) is
// tested alone and the scaler only ever sees their combination.

/** Demand in load units. */
export interface Demand {
  /** The whole pool's demand, on servers of any class. */
  total: number;
  /**
   * Parts of the demand that only a given size class can hold (a 350-participant webinar needs a
   * large server). A floor on that class, not an addition to `total`.
   */
  byClass: Readonly<Record<string, number>>;
  /** Which source the total came from, for the decision's reason. */
  source: string;
  /** Large meetings expected to start in the window, each needing room on one server. */
  large?: LargeDemand;
}

/**
 * Meetings that will each take a large part of one server (a 350-seat webinar): the pool may
 * have the capacity in total and still no server with that much room free.
 */
export interface LargeDemand {
  /** Load units of each meeting expected, in the order they are expected to come. */
  loads: readonly number[];
  /**
   * How many of the first `loads` come before a server asked now could be ready: they take
   * rooms, and no new server can be theirs.
   */
  soon: number;
  /**
   * Share of what the servers hold now that will still run when these meetings come: 1 when
   * nothing ends before, near 0 when a lesson ends first and frees every server.
   */
  remaining: number;
  /** Which source expects them. */
  source: string;
}

const largeSum = (l: LargeDemand | undefined) => (l ? l.loads.reduce((a, b) => a + b, 0) : 0);

export interface DemandSource {
  readonly name: string;
  /** The highest demand expected at any instant of [from, to] (ms). */
  demand(from: number, to: number): Demand;
}

export const noDemand = (source: string): Demand => ({ total: 0, byClass: {}, source });

/**
 * The sources' demand taken together: the highest total, class by class the highest pinned
 * part, and the largest set of large meetings. A maximum, not a sum: every source estimates the
 * same pool (a schedule minimum and a learned profile both describe the whole morning), so
 * adding them would count it twice.
 */
export function maxOfSources(sources: readonly DemandSource[], name = 'forecast'): DemandSource {
  return {
    name,
    demand(from, to) {
      let best = noDemand('none');
      let large: LargeDemand | undefined;
      const byClass: Record<string, number> = {};
      for (const source of sources) {
        const d = source.demand(from, to);
        if (d.total > best.total) best = d;
        if (largeSum(d.large) > largeSum(large)) large = d.large;
        for (const [cls, load] of Object.entries(d.byClass)) byClass[cls] = Math.max(byClass[cls] ?? 0, load);
      }
      return { total: best.total, byClass, source: best.source, ...(large && { large }) };
    },
  };
}
