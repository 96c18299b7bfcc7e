// The load model learned from the servers' CPU (placement/learned-weights.ts): a least-squares
// fit pulled toward the policy's weights, with no weight below zero.
import { describe, expect, it } from 'vitest';
import {
  decodeStatistics,
  learnedWeights,
  LOAD_TERMS,
  MAX_AGE_MS,
  MAX_FACTOR,
  MIN_OBSERVATIONS,
  MIN_SERVERS,
  recentServers,
  SERVERS_WINDOW_MS,
  observationSums,
  SATURATED_CPU,
  type LoadObservation,
  type LoadStatistics,
} from '../../src/placement/learned-weights.js';
import { DEFAULT_LOAD_WEIGHTS, expectedMeetingLoad, meetingLoad, type LoadWeights } from '../../src/placement/load-model.js';
import { meetingLoad as simMeetingLoad } from '../../src/simulator/load.js';
import { seededRandom } from '../../src/traffic/random.js';

const K = LOAD_TERMS.length;
/** Observations come from 20 servers in turn. */
let serverSeq = 0;

function statsOf(observations: LoadObservation[], at = 0): LoadStatistics {
  const { sums, servers } = observationSums(observations);
  return { xtx: sums.slice(0, K * K), xty: sums.slice(K * K), at, seen: Object.fromEntries(servers.map((s) => [s, at])) };
}

/** A server's counts, and its CPU from a linear truth with a host share `host` (load units). */
function observe(meetings: { participants: number; voice: number; cameras: number }[], capacity: number, truth: LoadWeights, host = 0): LoadObservation {
  let load = host;
  const o = { server: `s${serverSeq++ % 20}`, meetings: meetings.length, participants: 0, voice: 0, streamsDelivered: 0, capacity, cpu: 0 };
  for (const m of meetings) {
    load += meetingLoad({ participants: m.participants, voice: m.voice, videos: m.cameras }, truth);
    o.participants += m.participants;
    o.voice += m.voice;
    o.streamsDelivered += m.cameras * Math.max(0, m.participants - 1);
  }
  return { ...o, cpu: load / capacity };
}

/** Servers running a random mix of camera classes, lectures and webinars. */
function pool(n: number, seed: number, truth: LoadWeights, host = 0, allOnAudio = false): LoadObservation[] {
  const random = seededRandom(seed);
  const out: LoadObservation[] = [];
  for (let i = 0; i < n; i++) {
    const meetings = [];
    const count = 1 + Math.floor(random() * 4);
    for (let k = 0; k < count; k++) {
      const participants = 10 + Math.floor(random() * 40);
      const voice = allOnAudio ? participants : Math.round(participants * (0.5 + random() * 0.5));
      meetings.push({ participants, voice, cameras: Math.floor(random() * 8) });
    }
    out.push(observe(meetings, 2000, truth, host));
  }
  return out;
}

const TRUTH: LoadWeights = { perMeeting: 3, perParticipant: 0.6, perVoice: 0.4, perStreamDelivered: 1.1 };

describe('learned load weights', () => {
  it('recovers the weights the CPU follows, the host share apart, from a varied pool', () => {
    const w = learnedWeights(statsOf(pool(60, 1, TRUTH, 40)), DEFAULT_LOAD_WEIGHTS, 0)!;
    expect(w).toBeDefined();
    // A weak prior pulls a little toward the policy's; each term lands within 10 %.
    expect(w.perStreamDelivered / TRUTH.perStreamDelivered).toBeGreaterThan(0.9);
    expect(w.perStreamDelivered / TRUTH.perStreamDelivered).toBeLessThan(1.1);
    expect((w.perParticipant + w.perVoice) / (TRUTH.perParticipant + TRUTH.perVoice)).toBeGreaterThan(0.9);
    expect((w.perParticipant + w.perVoice) / (TRUTH.perParticipant + TRUTH.perVoice)).toBeLessThan(1.1);
    expect(w.perMeeting).toBeGreaterThan(1);
    expect(w.perMeeting).toBeLessThan(6);
    // What matters: a camera-heavy class is priced as the CPU prices it, the policy's weights
    // being 2.4× under.
    const classLoad = (weights: LoadWeights) => expectedMeetingLoad(30, 15, weights);
    expect(classLoad(w) / classLoad(TRUTH)).toBeGreaterThan(0.95);
    expect(classLoad(w) / classLoad(TRUTH)).toBeLessThan(1.05);
    expect(classLoad(TRUTH) / classLoad(DEFAULT_LOAD_WEIGHTS)).toBeGreaterThan(2.4);
  });

  it("learns the simulator's own CPU model well enough to price a camera class and a webinar", () => {
    // The simulator's costs are not the model's terms (microphones apart from listeners, a cost
    // per camera published): the fit is an approximation, judged on what placement asks of it.
    const random = seededRandom(7);
    const cores = 16;
    const capacity = 1000;
    const sim = (p: number, cams: number, mics: number) =>
      simMeetingLoad({ participants: p, moderators: 1, listenOnly: p - mics, microphones: mics, moderatorCameras: Math.min(1, cams), viewerCameras: Math.max(0, cams - 1), webcamsOnlyForModerator: false });
    const observations: LoadObservation[] = [];
    for (let i = 0; i < 80; i++) {
      const o = { server: `s${i % 20}`, meetings: 0, participants: 0, voice: 0, streamsDelivered: 0, capacity, cpu: 0 };
      let percent = 0;
      const count = 1 + Math.floor(random() * 3);
      for (let k = 0; k < count; k++) {
        const webinar = random() < 0.2;
        const p = webinar ? 150 + Math.floor(random() * 200) : 20 + Math.floor(random() * 16);
        const cams = webinar ? 1 : 5 + Math.floor(random() * 26);
        const mics = webinar ? 2 : 3 + Math.floor(random() * 4);
        percent += sim(p, cams, mics);
        o.meetings++;
        o.participants += p;
        o.voice += p;
        o.streamsDelivered += cams * (p - 1);
      }
      const cpu = percent / (cores * 100);
      if (cpu < SATURATED_CPU) observations.push({ ...o, cpu });
    }
    const w = learnedWeights(statsOf(observations), DEFAULT_LOAD_WEIGHTS, 0)!;
    const truthUnits = (p: number, cams: number, mics: number) => (sim(p, cams, mics) / (cores * 100)) * capacity;
    for (const [p, cams, mics] of [
      [30, 15, 4],
      [25, 5, 3],
      [35, 30, 5],
      [300, 1, 2],
    ] as const) {
      const learned = expectedMeetingLoad(p, cams, w);
      expect(learned / truthUnits(p, cams, mics)).toBeGreaterThan(0.85);
      expect(learned / truthUnits(p, cams, mics)).toBeLessThan(1.15);
    }
    // The policy's weights price the 30-camera class at well under half of it.
    expect(expectedMeetingLoad(35, 30, DEFAULT_LOAD_WEIGHTS) / truthUnits(35, 30, 5)).toBeLessThan(0.4);
  });

  it('keeps the policy where the evidence says nothing: no camera ever seen, the camera weight stays', () => {
    const noCameras = pool(40, 2, { ...TRUTH, perStreamDelivered: 0 }).map((o) => ({ ...o, streamsDelivered: 0 }));
    const w = learnedWeights(statsOf(noCameras), DEFAULT_LOAD_WEIGHTS, 0)!;
    expect(w.perStreamDelivered).toBeCloseTo(DEFAULT_LOAD_WEIGHTS.perStreamDelivered, 12);
    // Everyone on audio: participants and voice cannot be told apart; their sum is learned
    // (1.0, the policy says 1.5), and the prior splits it: neither goes to zero.
    const v = learnedWeights(statsOf(pool(40, 3, TRUTH, 0, true)), DEFAULT_LOAD_WEIGHTS, 0)!;
    expect(v.perParticipant + v.perVoice).toBeGreaterThan(0.9);
    expect(v.perParticipant + v.perVoice).toBeLessThan(1.15);
    expect(v.perParticipant).toBeGreaterThan(0.2);
    expect(v.perVoice).toBeGreaterThan(0.1);
  });

  it('keeps every weight within 8× of the policy either way, and none below zero', () => {
    // A CPU that falls as meetings are added (an absurd host): the meeting term is held at its floor.
    const odd = pool(40, 4, TRUTH).map((o) => ({ ...o, cpu: Math.max(0, o.cpu - (o.meetings * 60) / o.capacity) }));
    const w = learnedWeights(statsOf(odd), DEFAULT_LOAD_WEIGHTS, 0)!;
    expect(w.perMeeting).toBeCloseTo(DEFAULT_LOAD_WEIGHTS.perMeeting / MAX_FACTOR, 12);
    for (const term of ['perParticipant', 'perVoice', 'perStreamDelivered'] as const) expect(w[term]).toBeGreaterThan(0);
    // Servers whose exporter shows an idle host whatever runs: the weights stop at the floor,
    // so a meeting still reserves an eighth of the policy's figure, not nothing.
    const idle = pool(40, 9, TRUTH).map((o) => ({ ...o, cpu: 0.02 }));
    const floor = learnedWeights(statsOf(idle), DEFAULT_LOAD_WEIGHTS, 0)!;
    expect(expectedMeetingLoad(50, 5, floor)).toBeGreaterThanOrEqual(expectedMeetingLoad(50, 5) / MAX_FACTOR - 1e-9);
    const dear = learnedWeights(statsOf(pool(40, 5, { ...TRUTH, perStreamDelivered: 40 }).filter((o) => o.cpu < SATURATED_CPU)), DEFAULT_LOAD_WEIGHTS, 0);
    if (dear) expect(dear.perStreamDelivered).toBeLessThanOrEqual(MAX_FACTOR * DEFAULT_LOAD_WEIGHTS.perStreamDelivered + 1e-9);
  });

  it('is not used until several servers fed it recently: one server cannot steer the pool', () => {
    const one = pool(40, 10, TRUTH).map((o) => ({ ...o, server: 'only' }));
    expect(learnedWeights(statsOf(one), DEFAULT_LOAD_WEIGHTS, 0)).toBeUndefined();
    const two = pool(40, 10, TRUTH).map((o, i) => ({ ...o, server: `s${i % 2}` }));
    expect(learnedWeights(statsOf(two), DEFAULT_LOAD_WEIGHTS, 0)).toBeUndefined();
    const three = pool(40, 10, TRUTH).map((o, i) => ({ ...o, server: `s${i % MIN_SERVERS}` }));
    const stats = statsOf(three);
    expect(learnedWeights(stats, DEFAULT_LOAD_WEIGHTS, 0)).toBeDefined();
    // An hour later without news from one of them, two are not enough any more.
    const later = { ...stats, seen: { ...stats.seen, s0: -SERVERS_WINDOW_MS - 1 } };
    expect(recentServers(later, 0)).toBe(2);
    expect(learnedWeights(later, DEFAULT_LOAD_WEIGHTS, 0)).toBeUndefined();
  });

  it('skips what says nothing: saturated servers, servers without meetings, a bad CPU figure', () => {
    const base = observe([{ participants: 20, voice: 20, cameras: 2 }], 1000, TRUTH);
    expect(observationSums([base]).count).toBe(1);
    expect(observationSums([{ ...base, cpu: SATURATED_CPU }, { ...base, meetings: 0 }, { ...base, cpu: Number.NaN }, { ...base, capacity: 0 }]).count).toBe(0);
  });

  it('needs enough evidence, and fresh: else the policy applies (undefined)', () => {
    const few = pool(MIN_OBSERVATIONS - 1, 6, TRUTH);
    expect(learnedWeights(statsOf(few), DEFAULT_LOAD_WEIGHTS, 0)).toBeUndefined();
    expect(learnedWeights(statsOf(pool(MIN_OBSERVATIONS, 6, TRUTH)), DEFAULT_LOAD_WEIGHTS, 0)).toBeDefined();
    expect(learnedWeights(statsOf(pool(30, 6, TRUTH)), DEFAULT_LOAD_WEIGHTS, MAX_AGE_MS + 1)).toBeUndefined();
    expect(learnedWeights(undefined, DEFAULT_LOAD_WEIGHTS, 0)).toBeUndefined();
  });

  it('reads its stored form back, and refuses a malformed one', () => {
    const { sums } = observationSums(pool(12, 8, TRUTH));
    const flat = sums.map((v) => v.toPrecision(17)).join(',');
    const decoded = decodeStatistics(flat, '1234')!;
    expect(decoded.at).toBe(1234);
    expect(decoded.xtx).toEqual(sums.slice(0, K * K));
    expect(decodeStatistics(flat.split(',').slice(1).join(','), '1')).toBeUndefined();
    expect(decodeStatistics(flat.replace(/^[^,]+/, 'x'), '1')).toBeUndefined();
    expect(decodeStatistics(flat, undefined)).toBeUndefined();
    expect(decodeStatistics(undefined, '1')).toBeUndefined();
  });
});
