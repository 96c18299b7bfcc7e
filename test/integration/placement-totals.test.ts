// The reservation sums the Lua scripts keep in each server hash, against an independent model of
// what the reservations hash held before them: every reservation faded one by one
// (fadedReservation). After any sequence of places, polls, forgets and waits, placement reads
// the exact sum up to the sums' `until`, and past it at most Σreserved × (now − until) / fade more,
// never less (placement/reservations.ts).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeetingInfo } from '../../src/bbb/types.js';
import { fadedReservation } from '../../src/placement/load-model.js';
import { reservedLoad, type ReservationTotals } from '../../src/placement/reservations.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

const FADE = 900_000;
const GRACE = 30_000;
const T0 = 1_760_000_000_000;
const SERVERS = ['s0', 's1', 's2'];
const thresholds = { offlineAfter: 2, onlineAfter: 1, graceMs: GRACE, fadeMs: FADE };

const infoOf = (meetingID: string): MeetingInfo => ({
  meetingName: meetingID, meetingID, internalMeetingID: `${meetingID}-1`, createTime: 1, createDate: '', voiceBridge: '70000',
  dialNumber: '', running: true, duration: 0, hasUserJoined: true, recording: false, hasBeenForciblyEnded: false, startTime: 1,
  endTime: 0, participantCount: 1, listenerCount: 0, voiceParticipantCount: 0, videoCount: 0, maxUsers: 0, moderatorCount: 0,
  attendees: [], metadata: {}, isBreakout: false,
});

type Op =
  | { kind: 'place'; need: number; first: number }
  | { kind: 'forget'; pick: number }
  | { kind: 'poll'; server: number; measured: number[] }
  | { kind: 'wait'; ms: number };

const quarters = (max: number) => fc.integer({ min: 0, max: max * 4 }).map((q) => q / 4);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('place' as const), need: quarters(400), first: fc.nat(SERVERS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('poll' as const),
      server: fc.nat(SERVERS.length - 1),
      // Per meeting of the server: its measured load, or -1 when the poll does not list it.
      measured: fc.array(fc.oneof(fc.constant(-1), quarters(500)), { maxLength: 10 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: FADE / 2 })) }) },
);

interface Modelled {
  id: string;
  server: string;
  reserved: number;
  createdAt: number;
  measured: number;
}

describe('reservation sums in Redis (place-meeting, apply-poll, forget-meeting)', () => {
  let t: TestRedis;
  let run = 0;
  beforeAll(() => {
    t = testRedis('totals');
  });
  afterAll(() => t.cleanup());

  async function check(store: Store, model: Modelled[], now: number): Promise<void> {
    const { redis, keys } = store.ctx;
    const { servers, views } = await store.snapshot(FADE);
    for (const [i, id] of SERVERS.entries()) {
      const h = await redis.hgetall(keys.server(id));
      const hash = await redis.hgetall(keys.reservations(id));
      const mine = model.filter((m) => m.server === id);
      const exact = mine.reduce((sum, m) => sum + fadedReservation(m.reserved, now - m.createdAt, FADE, m.measured), 0);
      // The hash holds every modelled meeting's reservation that has not faded out.
      for (const m of mine) if (!(`default:${m.id}` in hash)) expect(fadedReservation(m.reserved, now - m.createdAt, FADE, m.measured)).toBe(0);
      expect(Object.keys(hash).every((ref) => mine.some((m) => `default:${m.id}` === ref))).toBe(true);

      // The sums are those of the hash's counted entries.
      const counted = Object.values(hash).map((v) => v.split('|')).filter((f) => f[3] === '1').map((f) => f.slice(0, 3).map(Number) as [number, number, number]);
      const totals: ReservationTotals =
        h.resvReserved === undefined
          ? { reserved: 0, reservedAt: 0, measured: 0, until: Infinity }
          : { reserved: Number(h.resvReserved), reservedAt: Number(h.resvReservedAt), measured: Number(h.resvMeasured), until: Number(h.resvUntil) };
      const sum = (f: (e: [number, number, number]) => number) => counted.reduce((s, e) => s + f(e), 0);
      expect(totals.reserved).toBeCloseTo(sum(([r]) => r), 6);
      expect(totals.measured).toBeCloseTo(sum(([, , m]) => m), 6);
      expect(Math.abs(totals.reservedAt - sum(([r, c]) => r * c))).toBeLessThanOrEqual(1e-9 * Math.abs(totals.reservedAt) + 1e-6);
      for (const [r, c, m] of counted) expect(totals.until).toBeLessThanOrEqual(c + FADE * (m === 0 ? 1 : 1 - m / r) + 1e-3);

      // Placement's view: measured load plus the sums' reading, within the documented bound.
      const reserved = views[i]!.load - servers[i]!.measuredLoad;
      const slack = 1e-6 * (1 + totals.reserved);
      expect(reserved).toBeCloseTo(reservedLoad(totals, now, FADE), 6);
      expect(reserved).toBeGreaterThanOrEqual(exact - slack);
      expect(reserved).toBeLessThanOrEqual(exact + (totals.reserved * Math.max(0, now - totals.until)) / FADE + slack);
    }
  }

  it('read the exact faded sum up to `until`, and never less after it, through any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        let clock = T0;
        const store = new Store(t.redis, { namespace: `${t.prefix}run${++run}`, now: () => clock });
        for (const id of SERVERS) await store.servers.add({ id, url: `http://127.0.0.1:1/${id}`, secret: 'k', capacity: 1000, health: 'online' });
        const model: Modelled[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'wait') clock += o.ms;
          else if (o.kind === 'place') {
            const id = `m${next++}`;
            const { views } = await store.snapshot(FADE);
            const candidates = [...SERVERS.slice(o.first), ...SERVERS.slice(0, o.first)];
            const placed = await store.meetings.place({ tenant: 'default', meetingID: id, upstreamID: id, need: o.need, candidates, sampled: 2, fadeMs: FADE });
            if (placed.outcome !== 'placed' && placed.outcome !== 'overcommitted') throw new Error(`not placed: ${JSON.stringify(placed)}`);
            // The script reads the same headroom as the snapshot taken just before.
            const view = views.find((v) => v.id === placed.server)!;
            expect(placed.headroom).toBeCloseTo(view.capacity - view.load, 6);
            model.push({ id, server: placed.server, reserved: o.need, createdAt: clock, measured: 0 });
          } else if (o.kind === 'forget' && model.length > 0) {
            const [gone] = model.splice(o.pick % model.length, 1);
            expect(await store.meetings.forget('default', gone!.id, gone!.server)).toBe(true);
          } else if (o.kind === 'poll') {
            const server = SERVERS[o.server]!;
            const mine = model.filter((m) => m.server === server);
            const listed = mine.filter((_, i) => (o.measured[i] ?? -1) >= 0);
            listed.forEach((m) => (m.measured = o.measured[mine.indexOf(m)]!));
            const measuredLoad = listed.reduce((s, m) => s + m.measured, 0);
            const applied = await store.polls.success(
              server,
              { meetings: listed.length, participants: listed.length, voice: 0, videos: 0, streamsDelivered: 0, measuredLoad },
              listed.map((m) => ({ tenant: 'default', meetingID: m.id, upstreamID: m.id, createTime: 1, measuredLoad: m.measured, info: infoOf(m.id) })),
              thresholds,
            );
            // Meetings the poll did not list are forgotten once past the create grace.
            const forgotten = mine.filter((m) => !listed.includes(m) && clock - m.createdAt > GRACE);
            expect(applied.forgotten).toBe(forgotten.length);
            for (const m of forgotten) model.splice(model.indexOf(m), 1);
          }
          await check(store, model, clock);
        }
      }),
      { numRuns: 100 },
    );
  });
});
