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
}

export interface DemandSource {
  readonly name: string;
  /** The highest demand expected at any instant of [from, to] (ms). */
  demand(from: number, to: number): Demand;
}

export const noDemand = (source: string): Demand => ({ total: 0, byClass: {}, source });

/**
 * The sources' demand taken together: the highest total and, class by class, the highest pinned
 * part. A maximum, not a sum: every source estimates the same pool (a schedule minimum and a
 * learned profile both describe the whole morning), so adding them would count it twice.
 */
export function maxOfSources(sources: readonly DemandSource[], name = 'forecast'): DemandSource {
  return {
    name,
    demand(from, to) {
      let best = noDemand('none');
      const byClass: Record<string, number> = {};
      for (const source of sources) {
        const d = source.demand(from, to);
        if (d.total > best.total) best = d;
        for (const [cls, load] of Object.entries(d.byClass)) byClass[cls] = Math.max(byClass[cls] ?? 0, load);
      }
      return { total: best.total, byClass, source: best.source };
    },
  };
}
