// Meetings announced ahead of time with a start and an expected size (creates carrying
// meta_amphi-start, later the JSON API's booked rooms): their load, from the load model, is
// demand from the moment they start.
import { expectedMeetingLoad } from '../../src/placement/load-model.js';
import type { LoadWeights } from '../../src/placement/load-model.js';
import type { Demand, DemandSource } from './demand.js';

const ANNOUNCED_SOURCE = 'announced meetings';

export interface AnnouncedMeeting {
  startsAt: number;
  /** When absent, `defaultDurationMs` after the start. */
  endsAt?: number;
  participants: number;
  cameras: number;
}

export interface AnnouncedSettings {
  weights: LoadWeights;
  /** Capacity by size class: a meeting too heavy for some class is pinned to one that holds it. */
  classes: Readonly<Record<string, number>>;
  defaultDurationMs: number;
}

/**
 * The class a meeting of `load` must run on: none when every class holds it, else the smallest
 * that does, else (nothing holds it) the largest, where it overflows least.
 */
export function pinnedClass(load: number, classes: Readonly<Record<string, number>>): string | undefined {
  const bySize = Object.entries(classes).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  if (bySize.length === 0 || bySize.every(([, capacity]) => capacity >= load)) return undefined;
  return (bySize.find(([, capacity]) => capacity >= load) ?? bySize[bySize.length - 1]!)[0];
}

interface Change {
  at: number;
  load: number;
  sizeClass: string | undefined;
}

/** The peak of the announced meetings' summed load over [from, to]: a sweep over starts and ends. */
export function announcedMeetingsSource(meetings: readonly AnnouncedMeeting[], settings: AnnouncedSettings): DemandSource {
  return {
    name: ANNOUNCED_SOURCE,
    demand(from, to): Demand {
      const changes: Change[] = [];
      for (const m of meetings) {
        const end = m.endsAt ?? m.startsAt + settings.defaultDurationMs;
        if (m.startsAt > to || end <= from) continue; // running over [start, end)
        const load = expectedMeetingLoad(m.participants, m.cameras, settings.weights);
        const sizeClass = pinnedClass(load, settings.classes);
        changes.push({ at: Math.max(m.startsAt, from), load, sizeClass }, { at: end, load: -load, sizeClass });
      }
      // Ends before starts at the same instant: a meeting ending at 9:00 and one starting at
      // 9:00 do not run together.
      changes.sort((a, b) => a.at - b.at || a.load - b.load);
      let total = 0;
      let peak = 0;
      const running: Record<string, number> = {};
      const byClass: Record<string, number> = {};
      for (const c of changes) {
        total += c.load;
        peak = Math.max(peak, total);
        if (c.sizeClass === undefined) continue;
        running[c.sizeClass] = (running[c.sizeClass] ?? 0) + c.load;
        byClass[c.sizeClass] = Math.max(byClass[c.sizeClass] ?? 0, running[c.sizeClass]!);
      }
      return { total: peak, byClass, source: ANNOUNCED_SOURCE };
    },
  };
}
