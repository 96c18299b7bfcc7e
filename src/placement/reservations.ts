// What a server's young meetings still reserve, read in O(1) whatever their number.
//
// Each reservation fades as load-model.ts fadedReservation says: max(0, r·(1 − age/fade) − m).
// Between two polls m is fixed, so each term falls on a straight line until it reaches zero at
// its fade end z = t + fade·(1 − m/r), and stays zero. A server keeps running sums over the
// reservations still above zero at the last poll (Σr, Σr·t, Σm) and the earliest fade end
// among them (`until`): up to `until` the sum of the lines is the exact sum of the terms.
// Past it a term may have reached zero while its line goes on falling, so the lines are read at
// `until` instead of now. The poll that owns the server rebuilds the sums from the reservations
// hash, dropping what has faded or been measured in full, so that freeze lasts less than a poll.
//
// Against the exact sum (each reservation faded one by one, as before these sums):
// - equal, but for rounding, until `until` (no reservation reached zero since the last poll);
// - past `until`, more by at most Σr × (now − until) / fade: with polls every 5 s and a 15 min
//   fade, 0.6 % of what the server's young meetings reserve. Should its polls stop, the
//   reservations stop fading at `until`, never counting more than Σ(r − m);
// - between processes whose clocks are δ apart, up to Σr × δ / fade more or less (nothing to
//   speak of with NTP); never more than Σ(r − m).
//
// The Lua scripts mirror these functions: place-meeting.lua (reservedLoad, addReservation),
// apply-poll.lua (sumReservations), forget-meeting.lua (removeReservation).

import { fadedReservation } from './load-model.js';

/** One meeting's reservation on its server. */
export interface Reservation {
  /** Load units expected at placement. */
  reserved: number;
  /** Placement time (ms). */
  createdAt: number;
  /** What the polls measured of the meeting (already in the server's measured load). */
  measured: number;
}

/** Running sums over a server's counted reservations. */
export interface ReservationTotals {
  /** Σ reserved. */
  reserved: number;
  /** Σ reserved × createdAt. */
  reservedAt: number;
  /** Σ measured. */
  measured: number;
  /** The earliest fade end among them (ms): the sums are exact up to this time. */
  until: number;
}

export const NO_RESERVATIONS: ReservationTotals = { reserved: 0, reservedAt: 0, measured: 0, until: Infinity };

/**
 * The load the counted reservations still add at `now`: the exact sum of fadedReservation up
 * to `until`, then at most reserved × (now − until) / fade above it. Never above Σ(r − m),
 * which also bounds a reservation stamped later than `now` by a process whose clock runs ahead.
 */
export function reservedLoad(t: ReservationTotals, now: number, fadeMs: number): number {
  const unfaded = t.reserved - t.measured;
  const at = Math.min(now, t.until);
  return Math.max(0, Math.min(unfaded, unfaded - (t.reserved * at - t.reservedAt) / fadeMs));
}

/** A new placement's reservation counted in: nothing measured yet, so it reaches zero at the fade's end. */
export function addReservation(t: ReservationTotals, reserved: number, createdAt: number, fadeMs: number): ReservationTotals {
  return { ...t, reserved: t.reserved + reserved, reservedAt: t.reservedAt + reserved * createdAt, until: Math.min(t.until, createdAt + fadeMs) };
}

/**
 * A counted reservation taken out (its meeting is forgotten). `until` stays: an earlier
 * `until` only freezes the sums sooner, which counts more.
 */
export function removeReservation(t: ReservationTotals, r: Reservation): ReservationTotals {
  return { ...t, reserved: t.reserved - r.reserved, reservedAt: t.reservedAt - r.reserved * r.createdAt, measured: t.measured - r.measured };
}

/** What a poll makes of each reservation of the server. */
export type ReservationFate = 'counted' | 'dormant' | 'dropped';

/**
 * The sums rebuilt from every reservation of a server at `now` (a poll, once the measured loads
 * are written). A reservation that has faded is dropped; one measured in full adds nothing
 * until a later poll measures less of it (then it counts again), so it stays, dormant.
 */
export function sumReservations(entries: readonly Reservation[], now: number, fadeMs: number): { totals: ReservationTotals; fates: ReservationFate[] } {
  const totals = { ...NO_RESERVATIONS };
  const fates = entries.map((r): ReservationFate => {
    if (now - r.createdAt >= fadeMs) return 'dropped';
    if (fadedReservation(r.reserved, now - r.createdAt, fadeMs, r.measured) <= 0) return 'dormant';
    totals.reserved += r.reserved;
    totals.reservedAt += r.reserved * r.createdAt;
    totals.measured += r.measured;
    // Its fade end, measured part taken off: later than now, since it is above zero now.
    totals.until = Math.min(totals.until, r.createdAt + fadeMs * (1 - r.measured / r.reserved));
    return 'counted';
  });
  return { totals, fates };
}
