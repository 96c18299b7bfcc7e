import { describe, expect, it } from 'vitest';
import { headroom, isPlaceable, MAX_CANDIDATES, NO_TAGS, parseServerTags, rankServers, type ServerView } from '../../src/placement/choose.js';
import {
  DEFAULT_LOAD_WEIGHTS,
  DEFAULT_SIZE_CLASSES,
  expectedMeetingLoad,
  fadedReservation,
  meetingLoad,
  streamsDelivered,
} from '../../src/placement/load-model.js';

const server = (id: string, load: number, extra: Partial<ServerView> = {}): ServerView => ({
  id,
  capacity: 100,
  load,
  state: 'enabled',
  health: 'online',
  tags: [],
  ...extra,
});

/** A deterministic random source cycling through the given values. */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('load model', () => {
  it('counts camera streams delivered to every other participant, or only to moderators', () => {
    expect(streamsDelivered({ participants: 20, voice: 0, videos: 20 })).toBe(380);
    expect(streamsDelivered({ participants: 1, voice: 0, videos: 1 })).toBe(0);
    expect(streamsDelivered({ participants: 30, voice: 0, videos: 10, moderators: 2, webcamsOnlyForModerator: true })).toBe(10);
  });

  it('matches the documented sizing: 6 × 25 users with 5 cameras fill ~87 % of a standard server', () => {
    const perMeeting = meetingLoad({ participants: 25, voice: 25, videos: 5 });
    expect(perMeeting).toBe(5 + 25 + 12.5 + 0.25 * 5 * 24);
    expect((6 * perMeeting) / DEFAULT_SIZE_CLASSES.standard!).toBeCloseTo(0.87, 2);
    // A 350-participant webinar does not fit a standard server, only a large one.
    const webinar = expectedMeetingLoad(350, 1);
    expect(webinar).toBeGreaterThan(DEFAULT_SIZE_CLASSES.standard!);
    expect(webinar).toBeLessThan(DEFAULT_SIZE_CLASSES.large!);
  });

  it('grows with participants, voice and cameras', () => {
    const base = { participants: 10, voice: 5, videos: 2 };
    const load = meetingLoad(base, DEFAULT_LOAD_WEIGHTS);
    expect(meetingLoad({ ...base, participants: 11 })).toBeGreaterThan(load);
    expect(meetingLoad({ ...base, voice: 6 })).toBeGreaterThan(load);
    expect(meetingLoad({ ...base, videos: 3 })).toBeGreaterThan(load);
  });

  it('fades a reservation linearly and subtracts what was measured', () => {
    expect(fadedReservation(100, 0, 1000, 0)).toBe(100);
    expect(fadedReservation(100, 500, 1000, 0)).toBe(50);
    expect(fadedReservation(100, 500, 1000, 20)).toBe(30);
    expect(fadedReservation(100, 500, 1000, 80)).toBe(0);
    expect(fadedReservation(100, 1000, 1000, 0)).toBe(0);
    expect(fadedReservation(100, -5, 1000, 0)).toBe(100);
  });
});

describe('server choice', () => {
  it('reads meta_server-tag: trailing ! is required, others preferred', () => {
    expect(parseServerTags(undefined)).toEqual(NO_TAGS);
    expect(parseServerTags('gpu!, eu ,,!')).toEqual({ required: ['gpu'], preferred: ['eu'] });
  });

  it('places only on enabled, online servers carrying the required tags', () => {
    const tags = { required: ['gpu'], preferred: [] };
    expect(isPlaceable(server('a', 0, { tags: ['gpu'] }), tags)).toBe(true);
    expect(isPlaceable(server('a', 0), tags)).toBe(false);
    expect(isPlaceable(server('a', 0, { state: 'cordoned' }), NO_TAGS)).toBe(false);
    expect(isPlaceable(server('a', 0, { state: 'disabled' }), NO_TAGS)).toBe(false);
    expect(isPlaceable(server('a', 0, { health: 'offline' }), NO_TAGS)).toBe(false);
  });

  it('keeps a margin under the fill ceiling while another server has room, and still places when none has', () => {
    const servers = [server('a', 82), server('b', 50)];
    // a has 18 units by capacity, 8 under a 0.9 ceiling: a 10-unit meeting fits it only without the ceiling.
    expect(headroom(servers[0]!, 0.9)).toBeCloseTo(8, 9);
    expect(rankServers(servers, 10, NO_TAGS, () => 0, 1, MAX_CANDIDATES, 1)).toEqual({ candidates: ['a', 'b'], sampled: 1 });
    expect(rankServers(servers, 10, NO_TAGS, () => 0, 1, MAX_CANDIDATES, 0.9)).toEqual({ candidates: ['b', 'a'], sampled: 1 });
    // Both above the ceiling after the meeting: no sample, both offered by headroom (the atomic step overcommits the best).
    expect(rankServers([server('a', 85), server('b', 88)], 10, NO_TAGS, () => 0, 2, MAX_CANDIDATES, 0.9)).toEqual({ candidates: ['a', 'b'], sampled: 0 });
  });

  it('puts the random sample first, by headroom, then the other fitting servers, then the full ones', () => {
    const servers = [server('a', 10), server('b', 50), server('c', 95), server('d', 30), server('e', 0, { health: 'offline' })];
    // random picks index 1 (b) then, of the remaining [a, d, c→? ], index 0.
    const r = rankServers(servers, 20, NO_TAGS, seq(0.4, 0), 2);
    expect(r.sampled).toBe(2);
    expect(r.candidates.slice(0, 2)).toEqual(['a', 'b']);
    expect(r.candidates).toEqual(['a', 'b', 'd', 'c']);
    expect(r.candidates).not.toContain('e');
  });

  it('gives a large meeting the roomiest servers, not a random pair', () => {
    const servers = [server('a', 10), server('b', 50), server('c', 0), server('d', 30)];
    // 30 of 100 units: large at a share of 0.25 of the largest server, not at 0.5.
    expect(rankServers(servers, 30, NO_TAGS, () => 0.4, 2, MAX_CANDIDATES, 0.9, 0.25)).toEqual({ candidates: ['c', 'a', 'd', 'b'], sampled: 2 });
    expect(rankServers(servers, 30, NO_TAGS, () => 0.4, 2, MAX_CANDIDATES, 0.9, 0.5).candidates.slice(0, 2)).toEqual(['d', 'b']);
    // The largest server sets the scale: 30 units is under a quarter of 200.
    expect(rankServers([...servers, server('big', 150, { capacity: 200 })], 30, NO_TAGS, () => 0.4, 2, MAX_CANDIDATES, 0.9, 0.25).candidates.slice(0, 2)).toEqual(['c', 'b']);
  });

  it('never ranks a server that cannot fit ahead of one that can', () => {
    for (let trial = 0; trial < 200; trial++) {
      const servers = Array.from({ length: 12 }, (_, i) => server(`s${i}`, Math.floor(Math.random() * 100)));
      const need = 30;
      const { candidates } = rankServers(servers, need, NO_TAGS, Math.random, 3);
      const fits = candidates.map((id) => headroom(servers.find((s) => s.id === id)!) >= need);
      const firstMiss = fits.indexOf(false);
      if (firstMiss !== -1) expect(fits.slice(firstMiss).every((f) => !f)).toBe(true);
      expect(candidates).toHaveLength(12);
    }
  });

  it('prefers servers with a preferred tag while one of them fits, else uses the others', () => {
    const servers = [server('plain', 0), server('tagged', 60, { tags: ['eu'] })];
    const tags = parseServerTags('eu');
    expect(rankServers(servers, 30, tags, Math.random).candidates[0]).toBe('tagged');
    expect(rankServers(servers, 50, tags, Math.random).candidates[0]).toBe('plain');
  });

  it('gives the atomic step MAX_CANDIDATES at most, whatever the pool: the sample, then the most headroom', () => {
    const servers = Array.from({ length: 1000 }, (_, i) => server(`s${i}`, i % 100)); // 10 servers at each load
    const loads = (ids: string[]) => ids.map((id) => servers.find((s) => s.id === id)!.load);
    const roomy = rankServers(servers, 10, NO_TAGS, Math.random);
    expect(roomy.candidates).toHaveLength(MAX_CANDIDATES);
    expect(roomy.sampled).toBe(2);
    const rest = loads(roomy.candidates.slice(2));
    expect(rest).toEqual([...rest].sort((a, b) => a - b));
    expect(Math.max(...rest)).toBeLessThanOrEqual(6);
    // A full pool: the servers with the most headroom, best first, none sampled.
    const full = rankServers(servers, 200, NO_TAGS, Math.random);
    expect(full.sampled).toBe(0);
    expect(loads(full.candidates)).toEqual(Array.from({ length: MAX_CANDIDATES }, (_, i) => Math.floor(i / 10)));
    expect(rankServers(servers, 10, NO_TAGS, Math.random, 2, Infinity).candidates).toHaveLength(1000);
  });

  it('offers no candidate when nothing is placeable, and overflow candidates when all are full', () => {
    expect(rankServers([server('a', 0, { state: 'disabled' })], 1, NO_TAGS, Math.random)).toEqual({ candidates: [], sampled: 0 });
    const full = rankServers([server('a', 99), server('b', 90)], 50, NO_TAGS, Math.random);
    expect(full).toEqual({ candidates: ['b', 'a'], sampled: 0 });
  });
});
