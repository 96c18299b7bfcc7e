import { describe, expect, it } from 'vitest';
import { clockLabel, generateSchedule, schoolMorningProfile } from '../../src/traffic/model.js';
import type { JoinEvent, TrafficEvent } from '../../src/traffic/model.js';
import { Rng, seededRandom } from '../../src/traffic/random.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 7:45 to 11:45 at 40 classes an hour: a few hundred meetings, several thousand users. */
const morning = (seed = 1, extra: Partial<Parameters<typeof generateSchedule>[0]> = {}) =>
  generateSchedule({ durationMs: 4 * HOUR, startMinuteOfDay: 465, classesPerHour: 40, ...extra }, seededRandom(seed));

function byUser(events: readonly TrafficEvent[]): Map<string, TrafficEvent[]> {
  const out = new Map<string, TrafficEvent[]>();
  for (const e of events) {
    if (!('user' in e)) continue;
    const list = out.get(e.user) ?? [];
    list.push(e);
    out.set(e.user, list);
  }
  return out;
}

describe('seeded random source', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws exponentials with the requested mean and integers within bounds', () => {
    const rng = new Rng(seededRandom(7));
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += rng.exponential(3);
    expect(sum / 20_000).toBeGreaterThan(2.8);
    expect(sum / 20_000).toBeLessThan(3.2);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(rng.int(2, 5));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });
});

describe('school morning profile', () => {
  it('is quiet before 7:30, peaks on the hour and dips between lessons', () => {
    expect(schoolMorningProfile(7 * 60)).toBe(0);
    expect(schoolMorningProfile(8 * 60)).toBeCloseTo(1, 5);
    expect(schoolMorningProfile(9 * 60)).toBeCloseTo(1, 5);
    expect(schoolMorningProfile(9 * 60 + 30)).toBeLessThan(0.2);
    expect(schoolMorningProfile(7 * 60 + 45)).toBeLessThan(schoolMorningProfile(7 * 60 + 58));
    // Evenings and nights are quiet, the next morning starts again.
    expect(schoolMorningProfile(18 * 60)).toBe(0);
    expect(schoolMorningProfile(23 * 60)).toBe(0);
    expect(schoolMorningProfile(24 * 60 + 8 * 60)).toBeCloseTo(1, 5);
  });

  it('labels simulated time of day', () => {
    expect(clockLabel(465, 0)).toBe('07:45');
    expect(clockLabel(465, 15 * MINUTE)).toBe('08:00');
    expect(clockLabel(465, 59_999)).toBe('07:45');
    expect(clockLabel(23 * 60 + 50, 20 * MINUTE)).toBe('00:10');
  });
});

describe('traffic schedule', () => {
  it('is deterministic for a seed and changes with it', () => {
    expect(morning(5)).toEqual(morning(5));
    expect(morning(6).events).not.toEqual(morning(5).events);
  });

  it('is ordered in time and every meeting starts inside the window', () => {
    const { events, meetings } = morning();
    for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
    for (const m of meetings) {
      expect(m.startAt).toBeGreaterThanOrEqual(0);
      expect(m.startAt).toBeLessThan(4 * HOUR);
    }
    const creates = events.filter((e) => e.kind === 'create');
    expect(creates).toHaveLength(meetings.length);
    expect(new Set(creates.map((e) => e.meeting)).size).toBe(creates.length);
  });

  it('starts about classesPerHour meetings per hour once school is in, and few before 7:50', () => {
    const { meetings } = morning(3);
    // 9:00–11:00 is in the steady hourly rhythm: 80 expected, Poisson spread about ±9.
    const steady = meetings.filter((m) => m.startAt >= 75 * MINUTE && m.startAt < 195 * MINUTE).length;
    expect(steady).toBeGreaterThan(55);
    expect(steady).toBeLessThan(105);
    const early = meetings.filter((m) => m.startAt < 5 * MINUTE).length;
    expect(early).toBeLessThan(4);
    // The 8:00 wave: more starts within 5 minutes of the hour than in the 20 minutes around half past.
    const nearHour = meetings.filter((m) => Math.abs(m.startAt - 15 * MINUTE) <= 5 * MINUTE).length;
    const halfPast = meetings.filter((m) => Math.abs(m.startAt - 45 * MINUTE) <= 10 * MINUTE).length;
    expect(nearHour).toBeGreaterThan(halfPast);
  });

  it('draws class and webinar sizes within their bounds, classes around the middle', () => {
    const { meetings } = morning(2, { webinarShare: 0.1 });
    const classes = meetings.filter((m) => !m.webinar);
    const webinars = meetings.filter((m) => m.webinar);
    expect(webinars.length).toBeGreaterThan(3);
    expect(webinars.length).toBeLessThan(classes.length / 3);
    for (const m of classes) {
      expect(m.size).toBeGreaterThanOrEqual(15);
      expect(m.size).toBeLessThanOrEqual(35);
      expect(m.attendees).toBeLessThanOrEqual(m.size);
      expect(m.maxParticipants).toBe(0);
      // Teacher plus about a quarter of the class on camera.
      expect(m.expectedCameras).toBeGreaterThanOrEqual(4);
      expect(m.expectedCameras).toBeLessThanOrEqual(10);
    }
    const mean = classes.reduce((a, m) => a + m.size, 0) / classes.length;
    expect(mean).toBeGreaterThan(22);
    expect(mean).toBeLessThan(28);
    for (const m of webinars) {
      expect(m.size).toBeGreaterThanOrEqual(100);
      expect(m.size).toBeLessThanOrEqual(300);
      expect(m.maxParticipants).toBe(m.size);
      expect(m.expectedCameras).toBe(1);
    }
    // Some webinars draw more people than seats: those joins are the ones BBB refuses.
    expect(webinars.some((m) => m.attendees > m.maxParticipants)).toBe(true);
  });

  it('has one join per attendee, the host first as moderator, after the create', () => {
    const { events, meetings } = morning(4);
    const createdAt = new Map(events.filter((e) => e.kind === 'create').map((e) => [e.meeting, e.at]));
    const joins = events.filter((e): e is JoinEvent => e.kind === 'join');
    expect(joins.length).toBe(meetings.reduce((a, m) => a + m.attendees, 0));
    const firstJoin = new Map<string, JoinEvent>();
    for (const j of joins) {
      expect(j.at).toBeGreaterThan(createdAt.get(j.meeting)!);
      if (!firstJoin.has(j.meeting)) firstJoin.set(j.meeting, j);
    }
    for (const j of firstJoin.values()) expect(j.role).toBe('MODERATOR');
    expect(joins.filter((j) => j.role === 'MODERATOR')).toHaveLength(meetings.length);
  });

  it('spreads arrivals over the first minutes instead of all at once', () => {
    const { events } = morning(8);
    const createdAt = new Map(events.filter((e) => e.kind === 'create').map((e) => [e.meeting, e.at]));
    const delays = events.filter((e) => e.kind === 'join').map((e) => e.at - createdAt.get(e.meeting)!);
    const withinMinute = delays.filter((d) => d < MINUTE).length / delays.length;
    const withinSpread = delays.filter((d) => d <= 5 * MINUTE + 10_000).length / delays.length;
    expect(withinMinute).toBeGreaterThan(0.15);
    expect(withinMinute).toBeLessThan(0.7);
    expect(withinSpread).toBeGreaterThan(0.9);
  });

  it("keeps each user's story consistent: join first, then audio and cameras, leave last", () => {
    const { events } = morning(9);
    const stories = byUser(events);
    let cameraUsers = 0;
    let leftEarly = 0;
    for (const story of stories.values()) {
      expect(story[0]!.kind).toBe('join');
      expect(story.filter((e) => e.kind === 'join')).toHaveLength(1);
      const leaves = story.filter((e) => e.kind === 'leave');
      expect(leaves.length).toBeLessThanOrEqual(1);
      if (leaves.length === 1) expect(story.at(-1)!.kind).toBe('leave');
      for (let i = 1; i < story.length; i++) expect(story[i]!.at).toBeGreaterThan(story[i - 1]!.at);
      let camera = false;
      for (const e of story) {
        if (e.kind !== 'camera') continue;
        // Cameras go on before they go off, never twice in a row.
        expect(e.on).toBe(!camera);
        camera = e.on;
      }
      if (story.some((e) => e.kind === 'camera')) cameraUsers++;
      if (leaves[0] && leaves[0].at - story[0]!.at < 20 * MINUTE) leftEarly++;
    }
    const share = cameraUsers / stories.size;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.4);
    expect(leftEarly).toBeGreaterThan(0);
  });

  it('ends most meetings with an end call after the lesson, the rest by everybody leaving', () => {
    const { events, meetings } = morning(10);
    const ends = new Map(events.filter((e) => e.kind === 'end').map((e) => [e.meeting, e.at]));
    for (const m of meetings) {
      expect(ends.has(m.meeting)).toBe(m.endedByTeacher);
      const last = events.filter((e) => e.meeting === m.meeting).at(-1)!;
      expect(last.at).toBeGreaterThanOrEqual(m.endAt);
      if (m.endedByTeacher) expect(last.kind).toBe('end');
      else expect(last).toMatchObject({ kind: 'leave', user: `${m.meeting}-u000` });
    }
    const share = ends.size / meetings.length;
    expect(share).toBeGreaterThan(0.65);
    expect(share).toBeLessThan(0.95);
  });

  it('respects the bound on meetings and gives nothing for an empty window', () => {
    expect(morning(1, { maxMeetings: 7 }).meetings).toHaveLength(7);
    expect(generateSchedule({ durationMs: 0 }).events).toEqual([]);
    expect(generateSchedule({ durationMs: HOUR, classesPerHour: 0 }).events).toEqual([]);
  });
});
