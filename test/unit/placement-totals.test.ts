import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fadedReservation } from '../../src/placement/load-model.js';
import {
  addReservation,
  NO_RESERVATIONS,
  removeReservation,
  reservedLoad,
  sumReservations,
  type Reservation,
  type ReservationTotals,
} from '../../src/placement/reservations.js';

const FADE = 900_000;
const T0 = 1_760_000_000_000; // a real epoch, so the products carry today's magnitudes

/** Today's definition: every reservation faded and reduced by what was measured, one by one. */
const exact = (entries: Iterable<Reservation>, now: number): number => {
  let sum = 0;
  for (const r of entries) sum += fadedReservation(r.reserved, now - r.createdAt, FADE, r.measured);
  return sum;
};
const tolerance = (t: ReservationTotals) => 1e-6 * (1 + Math.abs(t.reserved));
/** The documented bound: exact up to `until`, then at most Σreserved × (now − until) / fade above. */
function expectWithinBound(t: ReservationTotals, entries: Iterable<Reservation>, now: number): void {
  const got = reservedLoad(t, now, FADE);
  const want = exact(entries, now);
  expect(got).toBeGreaterThanOrEqual(want - tolerance(t));
  expect(got).toBeLessThanOrEqual(want + (t.reserved * Math.max(0, now - t.until)) / FADE + tolerance(t));
}

describe('reservation sums (placement/reservations.ts)', () => {
  it('read one reservation as fadedReservation does, until it may reach zero', () => {
    const r = { reserved: 100, createdAt: T0, measured: 20 };
    const { totals: t } = sumReservations([r], T0, FADE);
    expect(t.until).toBe(T0 + FADE * 0.8);
    for (const age of [0, FADE / 4, FADE / 2, FADE * 0.8]) expect(reservedLoad(t, T0 + age, FADE)).toBeCloseTo(fadedReservation(100, age, FADE, 20), 9);
    // Past its fade end the line is read at `until`: zero here, never negative.
    expect(reservedLoad(t, T0 + FADE, FADE)).toBeCloseTo(0, 9);
    expect(reservedLoad(removeReservation(t, r), T0, FADE)).toBe(0);
    expect(reservedLoad(NO_RESERVATIONS, T0, FADE)).toBe(0);
  });

  it('a poll drops faded reservations, keeps ones measured in full dormant, counts the rest', () => {
    const entries = [
      { reserved: 100, createdAt: T0 - FADE, measured: 0 },
      { reserved: 100, createdAt: T0 - FADE / 2, measured: 60 },
      { reserved: 100, createdAt: T0 - FADE / 2, measured: 10 },
    ];
    const { totals, fates } = sumReservations(entries, T0, FADE);
    expect(fates).toEqual(['dropped', 'dormant', 'counted']);
    expect(totals).toEqual({ reserved: 100, reservedAt: 100 * (T0 - FADE / 2), measured: 10, until: T0 - FADE / 2 + FADE * 0.9 });
    expect(reservedLoad(totals, T0, FADE)).toBeCloseTo(40, 9);
  });

  it('a reservation stamped ahead of the reader counts no more than it reserves (clocks apart)', () => {
    const t = addReservation(NO_RESERVATIONS, 100, T0 + 5_000, FADE);
    expect(reservedLoad(t, T0, FADE)).toBe(100);
  });

  const reservation = (now: number) =>
    fc.record({
      reserved: fc.integer({ min: 1, max: 2000 }).map((q) => q / 4),
      createdAt: fc.integer({ min: now - FADE - 60_000, max: now }),
      measured: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2400 }).map((q) => q / 4)),
    });

  it('after a poll, equal the exact sum up to `until`, and stay within the bound after it', () => {
    fc.assert(
      fc.property(fc.array(reservation(T0), { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 2 * FADE }), { maxLength: 8 }), (entries, later) => {
        const { totals, fates } = sumReservations(entries, T0, FADE);
        const kept = entries.filter((_, i) => fates[i] !== 'dropped');
        for (const dt of [0, ...later]) {
          expectWithinBound(totals, kept, T0 + dt);
          if (T0 + dt <= totals.until) expect(reservedLoad(totals, T0 + dt, FADE)).toBeCloseTo(exact(kept, T0 + dt), 5);
        }
      }),
    );
  });

  type Op = { kind: 'place'; reserved: number } | { kind: 'forget'; pick: number } | { kind: 'poll'; measured: number[] } | { kind: 'wait'; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('place' as const), reserved: fc.integer({ min: 0, max: 2000 }).map((q) => q / 4) }),
    fc.record({ kind: fc.constant('forget' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('poll' as const), measured: fc.array(fc.integer({ min: -1, max: 2400 }).map((q) => q / 4), { maxLength: 12 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: FADE / 3 }) }),
  );

  it('kept incrementally through any places, forgets and polls, stay within the bound of the exact sum', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let now = T0;
        let totals = NO_RESERVATIONS;
        // The hash: each reservation and whether it is counted in the sums (dormant ones are not).
        let hash: { r: Reservation; counted: boolean }[] = [];
        for (const o of ops) {
          if (o.kind === 'wait') now += o.ms;
          else if (o.kind === 'place') {
            totals = addReservation(totals, o.reserved, now, FADE);
            hash.push({ r: { reserved: o.reserved, createdAt: now, measured: 0 }, counted: true });
          } else if (o.kind === 'forget' && hash.length > 0) {
            const [gone] = hash.splice(o.pick % hash.length, 1);
            if (hash.length === 0) totals = NO_RESERVATIONS;
            else if (gone!.counted) totals = removeReservation(totals, gone!.r);
          } else if (o.kind === 'poll') {
            // Negative: the poll did not list it, so its measured load stays.
            const polled = hash.map((e, i) => ((o.measured[i] ?? -1) < 0 ? e.r : { ...e.r, measured: o.measured[i]! }));
            const rebuilt = sumReservations(polled, now, FADE);
            totals = rebuilt.totals;
            hash = polled.flatMap((r, i) => (rebuilt.fates[i] === 'dropped' ? [] : [{ r, counted: rebuilt.fates[i] === 'counted' }]));
          }
          expectWithinBound(totals, hash.map((e) => e.r), now);
        }
      }),
      { numRuns: 300 },
    );
  });
});
