import { describe, expect, it } from 'vitest';
import { countsOf } from '../../src/scenario/run.js';
import { renderChart } from '../../src/scenario/chart.js';
import { clairvoyantServers, grade, percentile } from '../../src/scenario/grade.js';
import type { MinuteSample } from '../../src/scenario/grade.js';
import { generateMorning, MORNING_MS } from '../../src/scenario/morning.js';
import { clockWeight, ScenarioClock, speedProfile } from '../../src/scenario/time.js';
import { cpuTimeline, meetingPeaks } from '../../src/scenario/truth.js';
import { meetingLoad } from '../../src/simulator/load.js';
import { emptyCounters } from '../../src/traffic/driver.js';
import type { TrafficEvent } from '../../src/traffic/model.js';
import { seededRandom } from '../../src/traffic/random.js';

const MINUTE = 60_000;

/** Participants inside at instant t, from the events (joins until their meeting's end). */
function usersAt(events: readonly TrafficEvent[], t: number): number {
  const inside = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.at > t) break;
    if (e.kind === 'join') {
      if (!inside.has(e.meeting)) inside.set(e.meeting, new Set());
      inside.get(e.meeting)!.add(e.user);
    } else if (e.kind === 'end') inside.delete(e.meeting);
  }
  let n = 0;
  for (const users of inside.values()) n += users.size;
  return n;
}

describe('the morning timetable', () => {
  const morning = generateMorning({ peakUsers: 6000 }, seededRandom(7));

  it('is the same morning for the same seed, another for another seed', () => {
    expect(generateMorning({ peakUsers: 6000 }, seededRandom(7)).events).toEqual(morning.events);
    expect(generateMorning({ peakUsers: 6000 }, seededRandom(8)).events).not.toEqual(morning.events);
  });

  it('peaks at the asked number of concurrent users (within one class)', () => {
    let peak = 0;
    for (let t = 0; t < MORNING_MS; t += MINUTE) peak = Math.max(peak, usersAt(morning.events, t));
    expect(peak).toBeGreaterThanOrEqual(6000 * 0.97);
    expect(peak).toBeLessThanOrEqual(6000 + 35);
  });

  it('has classes of 20–35 with 5–30 cameras, webinars of 150–350 with one camera, staff meetings before 8:00', () => {
    const classes = morning.meetings.filter((m) => !m.webinar && m.startAt >= 25 * MINUTE);
    const webinars = morning.meetings.filter((m) => m.webinar);
    const staff = morning.meetings.filter((m) => !m.webinar && m.startAt < 25 * MINUTE);
    expect(classes.length).toBeGreaterThan(100);
    for (const c of classes) {
      expect(c.size).toBeGreaterThanOrEqual(20);
      expect(c.size).toBeLessThanOrEqual(35);
      expect(c.expectedCameras).toBeGreaterThanOrEqual(5);
      expect(c.expectedCameras).toBeLessThanOrEqual(30);
    }
    expect(Math.max(...classes.map((c) => c.expectedCameras))).toBeGreaterThan(15);
    expect(webinars.length).toBeGreaterThan(0);
    for (const w of webinars) {
      expect(w.size).toBeGreaterThanOrEqual(150);
      expect(w.size).toBeLessThanOrEqual(350);
      expect(w.expectedCameras).toBe(1);
    }
    expect(staff.length).toBeGreaterThan(0);
    for (const s of staff) expect(s.endAt).toBeLessThanOrEqual(30 * MINUTE);
  });

  it('changes classes on the hour: every lesson starts in the last 90 s before a bell and ends before the next', () => {
    const bells = [30, 90, 150, 210, 270].map((m) => m * MINUTE);
    for (const c of morning.meetings.filter((m) => !m.webinar && m.startAt >= 25 * MINUTE)) {
      const bell = bells.find((b) => c.startAt >= b - 90_000 && c.startAt <= b);
      expect(bell, `class ${c.meeting} at ${c.startAt}`).toBeDefined();
      expect(c.endAt).toBeLessThanOrEqual(bell! + 57 * MINUTE);
    }
    // Between two lessons the pool all but empties: at 8:58 fewer than a tenth of 8:30's users.
    expect(usersAt(morning.events, 88 * MINUTE)).toBeLessThan(usersAt(morning.events, 60 * MINUTE) / 10);
  });

  it('spreads joins over the first minutes of a slot', () => {
    const joins = morning.events.filter((e) => e.kind === 'join' && e.at >= 28 * MINUTE && e.at < 60 * MINUTE);
    // Hosts open their room in the 90 s before the bell; pupils follow over the next minutes.
    const beforeBell = joins.filter((e) => e.at < 30 * MINUTE).length;
    const withinSix = joins.filter((e) => e.at < 36 * MINUTE).length;
    expect(beforeBell).toBeLessThan(joins.length * 0.5);
    expect(withinSix).toBeGreaterThan(joins.length * 0.85);
  });
});

describe('the CPU timeline of a schedule', () => {
  it('sums the simulator’s meeting cost of who is inside, with audio and cameras, and empties at the end', () => {
    const events: TrafficEvent[] = [
      { at: 0, kind: 'create', meeting: 'm', name: 'm', size: 3, expectedCameras: 1, webinar: false, maxParticipants: 0, durationMs: 10 * MINUTE },
      { at: 1000, kind: 'join', meeting: 'm', user: 'a', fullName: 'A', role: 'MODERATOR' },
      { at: 2000, kind: 'join', meeting: 'm', user: 'b', fullName: 'B', role: 'VIEWER' },
      { at: 3000, kind: 'audio', meeting: 'm', user: 'a', mode: 'mic' },
      { at: 3000, kind: 'audio', meeting: 'm', user: 'b', mode: 'listen' },
      { at: 4000, kind: 'camera', meeting: 'm', user: 'a', on: true },
      { at: 2 * MINUTE, kind: 'end', meeting: 'm' },
    ];
    const timeline = cpuTimeline(events, MINUTE, 3 * MINUTE);
    const expected = meetingLoad({ participants: 2, moderators: 1, listenOnly: 1, microphones: 1, moderatorCameras: 1, viewerCameras: 0, webcamsOnlyForModerator: false });
    expect(timeline).toEqual([0, expected, 0]);
    // Meeting by meeting: its creation and the most it cost, the camera turned off later or not.
    const peaks = meetingPeaks([
      ...events.slice(0, -1),
      { at: 5000, kind: 'camera', meeting: 'm', user: 'a', on: false },
      { at: 6000, kind: 'create', meeting: 'n', name: 'n', size: 1, expectedCameras: 0, webinar: false, maxParticipants: 0, durationMs: MINUTE },
      events.at(-1)!,
    ]);
    expect(peaks).toEqual(new Map([['m', { createdAt: 0, peak: expected }], ['n', { createdAt: 6000, peak: 0 }]]));
  });
});

describe('the verdict', () => {
  const sample = (minute: number, over: Partial<MinuteSample> = {}): MinuteSample => ({
    minute,
    users: 100,
    ready: 2,
    provisioned: 3,
    desired: 3,
    scalerDemand: { reactive: 1, forecast: 1 },
    readyUtilization: [0.5, 0.7],
    maxUtilization: 0.7,
    loadInServers: 1.2,
    ...over,
  });

  it('nearest-rank percentile', () => {
    expect(percentile([], 95)).toBe(0);
    expect(percentile([0.1, 0.9, 0.5], 95)).toBe(0.9);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });

  it('a clairvoyant packs the load into servers filled to 80 %', () => {
    expect(clairvoyantServers(0)).toBe(0);
    expect(clairvoyantServers(0.8)).toBe(1);
    expect(clairvoyantServers(0.81)).toBe(2);
    expect(clairvoyantServers(8)).toBe(10);
  });

  it('integrates server-hours over the minutes between samples, and reads the peak from the users', () => {
    const samples = [sample(0, { provisioned: 60, loadInServers: 8 }), sample(30, { provisioned: 120, users: 1000, readyUtilization: [0.62, 0.9, 0.4], maxUtilization: 0.9 }), sample(60, { provisioned: 0, loadInServers: 0 })];
    const r = grade(samples, { joinsRefusedForCapacity: 1, joinsRefusedByPolicy: 2, meetingsInterruptedByScaleIn: 0 }, 'c.svg');
    // 60 servers × 30 min + 120 × 30 min + 0 × 1 min = 90 server-hours.
    expect(r.serverHours).toBe(90);
    // 10 servers × 30 min + 2 × 30 min (load 1.2) + 0 = 6 hours.
    expect(r.clairvoyantServerHours).toBe(6);
    expect(r.peakUsers).toBe(1000);
    expect(r.p95ReadyUtilizationAtPeak).toBe(0.9);
    expect(r.maxServerUtilization).toBe(0.9);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['peakUsers', 'joinsRefusedForCapacity', 'joinsRefusedByPolicy', 'maxServerUtilization', 'p95ReadyUtilizationAtPeak', 'serverHours', 'clairvoyantServerHours', 'meetingsInterruptedByScaleIn', 'chart']));
  });

  it('counts the camera rule and a webinar’s seats as policy, everything else that stopped a join as capacity', () => {
    const t = emptyCounters();
    t.refused = { maxParticipantsReached: 4, serviceUnavailable: 2 };
    t.createFailed = { noAvailableServers: 1 };
    t.errors = { 'join: timeout': 3, 'camera: HTTP 500': 9 };
    expect(countsOf(t, 5)).toEqual({ joinsRefusedForCapacity: 6, joinsRefusedByPolicy: 4, meetingsInterruptedByScaleIn: 5 });
  });

  it('draws every series in a standalone SVG', () => {
    const svg = renderChart([sample(0), sample(1)], { title: 'a <test> & more', clock: (m) => `m${m}` });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;test&gt; &amp; more');
    for (const label of ['users', 'desired', 'ready', 'paid for', 'clairvoyant', 'max (any server)', 'mean (ready)']) expect(svg).toContain(`>${label}</text>`);
    expect(svg.match(/<polyline/g)?.length).toBe(8);
  });
});

describe('accelerated time', () => {
  it('maps wall time onto the simulated morning at one speed', () => {
    const clock = new ScenarioClock(1_000_000, 50);
    expect(clock.at(123)).toBe(1_000_000);
    clock.start(10_000);
    expect(clock.at(10_000)).toBe(1_000_000);
    expect(clock.at(11_200)).toBe(1_000_000 + MINUTE);
    expect(clock.real(MINUTE)).toBe(1200);
    expect(clock.wallAt(1_000_000 + MINUTE)).toBe(11_200);
    expect(clock.speedAt(99_999)).toBe(50);
    expect(() => new ScenarioClock(0, 0)).toThrow(RangeError);
  });

  it('maps wall time through segments of different speeds, both ways', () => {
    // 100× for the first 10 simulated minutes (6 s real), then 10× (a minute is 6 s real), then 60×.
    const clock = new ScenarioClock(0, [
      { from: 0, speed: 100 },
      { from: 10 * MINUTE, speed: 10 },
      { from: 12 * MINUTE, speed: 60 },
    ]);
    clock.start(1_000);
    expect(clock.real(10 * MINUTE)).toBe(6_000);
    expect(clock.real(11 * MINUTE)).toBe(12_000);
    expect(clock.real(13 * MINUTE)).toBe(19_000);
    expect(clock.elapsed(1_000 + 6_000)).toBe(10 * MINUTE);
    expect(clock.elapsed(1_000 + 9_000)).toBe(10.5 * MINUTE);
    expect(clock.elapsed(1_000 + 19_000)).toBe(13 * MINUTE);
    for (const sim of [0, 1234, 10 * MINUTE + 1, 12.5 * MINUTE, 40 * MINUTE]) expect(clock.elapsed(clock.wallAt(sim))).toBeCloseTo(sim, 6);
    expect(clock.speedAt(1_000 + 9_000)).toBe(10);
    expect(clock.speedRange).toEqual({ min: 10, max: 100 });
    // A simulated minute from 9.5 min on: half a minute at 100× (0.3 s) and half at 10× (3 s).
    expect(clock.realDuration(MINUTE, 1_000 + 5_700)).toBeCloseTo(3_300, 6);
    expect(() => new ScenarioClock(0, [{ from: 5, speed: 1 }])).toThrow(RangeError);
    expect(() => new ScenarioClock(0, [{ from: 0, speed: 1 }, { from: 0, speed: 2 }])).toThrow(RangeError);
  });

  it('slows down where the events are dense, to the rate asked, and runs at the top speed elsewhere', () => {
    // 6,000 events in minute 3, 60 in minute 7, none elsewhere, over 10 minutes.
    const at = [...Array.from({ length: 6000 }, (_, i) => 3 * MINUTE + (i % 60) * 1000), ...Array.from({ length: 60 }, (_, i) => 7 * MINUTE + i * 1000)];
    const profile = speedProfile(at, { maxSpeed: 100, eventsPerSecond: 500, lengthMs: 10 * MINUTE });
    const clock = new ScenarioClock(0, profile);
    // Minute 3: 6,000 events in at least 12 s real, so 5×.
    expect(clock.real(4 * MINUTE) - clock.real(3 * MINUTE)).toBeCloseTo(12_000, 6);
    // Minute 7: 60 events would allow 500×, capped at 100×.
    for (const m of [0, 1, 2, 4, 5, 6, 7, 8, 9]) expect(clock.real((m + 1) * MINUTE) - clock.real(m * MINUTE)).toBeCloseTo(600, 6);
    expect(profile).toEqual([
      { from: 0, speed: 100 },
      { from: 3 * MINUTE, speed: 5 },
      { from: 4 * MINUTE, speed: 100 },
    ]);
  });

  it('counts each event for its weight: an end that takes a class out counts for several', () => {
    // 300 ends in minute 2: 300 events allow 100×, counted 8 times each they play at 20×.
    const at = Array.from({ length: 300 }, (_, i) => 2 * MINUTE + i * 200);
    expect(speedProfile(at, { maxSpeed: 100, eventsPerSecond: 800, lengthMs: 5 * MINUTE })).toEqual([{ from: 0, speed: 100 }]);
    const weighted = speedProfile(at, { maxSpeed: 100, eventsPerSecond: 800, lengthMs: 5 * MINUTE, weights: at.map(() => 8) });
    expect(weighted).toEqual([
      { from: 0, speed: 100 },
      { from: 2 * MINUTE, speed: 20 },
      { from: 3 * MINUTE, speed: 100 },
    ]);
    expect(clockWeight({ kind: 'end' })).toBe(8);
    expect(clockWeight({ kind: 'join' })).toBe(1);
  });

  it('plays a 30,000-user morning within the 10 minutes the run may take, every minute within the event rate', () => {
    const { events } = generateMorning({ peakUsers: 30_000 }, seededRandom(1));
    const played = events.filter((e) => e.at < MORNING_MS);
    const at = played.map((e) => e.at);
    const weights = played.map(clockWeight);
    const clock = new ScenarioClock(0, speedProfile(at, { maxSpeed: 100, eventsPerSecond: 800, lengthMs: MORNING_MS, weights }));
    expect(clock.real(MORNING_MS)).toBeLessThan(9.5 * 60_000);
    for (let m = 0; m < MORNING_MS / MINUTE; m++) {
      const n = played.reduce((sum, e) => sum + (e.at >= m * MINUTE && e.at < (m + 1) * MINUTE ? clockWeight(e) : 0), 0);
      expect(n / ((clock.real((m + 1) * MINUTE) - clock.real(m * MINUTE)) / 1000)).toBeLessThanOrEqual(800 + 1e-6);
    }
    expect(clock.speedRange.min).toBeLessThan(10);
    // The end of the last lesson before noon (11:54 to 11:57) plays slowly enough to be seen: about 20×.
    const endOfLesson = (clock.real(4 * 60 * MINUTE + 27 * MINUTE) - clock.real(4 * 60 * MINUTE + 24 * MINUTE)) / 1000;
    expect(3 * 60 / endOfLesson).toBeLessThan(40);
  });
});
