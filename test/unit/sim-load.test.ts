import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_CONSTANTS, deliveredStreams, meetingLoad, serverLoad } from '../../src/simulator/load.js';
import type { MeetingLoadInput } from '../../src/simulator/load.js';

const meeting = (o: Partial<MeetingLoadInput>): MeetingLoadInput => ({
  participants: 0,
  moderators: 0,
  listenOnly: 0,
  microphones: 0,
  moderatorCameras: 0,
  viewerCameras: 0,
  webcamsOnlyForModerator: false,
  ...o,
});

/** 50 users: a presenter on camera and mic, 4 more microphones, 45 listen-only. */
const classOf50 = meeting({ participants: 50, moderators: 1, microphones: 5, listenOnly: 45, moderatorCameras: 1 });
/** 20 users, every one on camera and microphone. */
const allOnCamera = meeting({ participants: 20, moderators: 1, microphones: 20, moderatorCameras: 1, viewerCameras: 19 });

describe('delivered camera streams', () => {
  it('sends each camera to every other participant', () => {
    expect(deliveredStreams(allOnCamera)).toBe(20 * 19);
    expect(deliveredStreams(classOf50)).toBe(49);
    expect(deliveredStreams(meeting({ participants: 1, moderators: 1, moderatorCameras: 1 }))).toBe(0);
    expect(deliveredStreams(meeting({}))).toBe(0);
  });

  it("with webcamsOnlyForModerator, a viewer's camera reaches moderators only", () => {
    const m = meeting({ participants: 30, moderators: 2, moderatorCameras: 1, viewerCameras: 10, webcamsOnlyForModerator: true });
    expect(deliveredStreams(m)).toBe(1 * 29 + 10 * 2);
    expect(deliveredStreams({ ...m, webcamsOnlyForModerator: false })).toBe(11 * 29);
  });
});

describe('server load figure', () => {
  it('is 0 for an empty server', () => {
    expect(serverLoad([])).toBe(0);
  });

  it('puts ~200 users in 4 meetings with a presenter camera each near 80 % of 8 cores', () => {
    const load = serverLoad([classOf50, classOf50, classOf50, classOf50], { cores: 8 });
    expect(load).toBeGreaterThanOrEqual(72);
    expect(load).toBeLessThanOrEqual(88);
  });

  it('makes 20 users all on camera (380 streams) heavier than that', () => {
    const heavy = serverLoad([allOnCamera], { cores: 8 });
    expect(heavy).toBeGreaterThan(80);
    expect(heavy).toBeGreaterThan(serverLoad([classOf50, classOf50, classOf50, classOf50], { cores: 8 }));
    // The same users without cameras are light.
    expect(serverLoad([{ ...allOnCamera, moderatorCameras: 0, viewerCameras: 0 }], { cores: 8 })).toBeLessThan(15);
  });

  it('scales inversely with the cores and sums meetings', () => {
    expect(serverLoad([allOnCamera], { cores: 16 })).toBeCloseTo(serverLoad([allOnCamera], { cores: 8 }) / 2, 0);
    expect(serverLoad([classOf50, allOnCamera])).toBeCloseTo(serverLoad([classOf50]) + serverLoad([allOnCamera]), 0);
  });

  it('accepts other constants', () => {
    const k = { ...DEFAULT_LOAD_CONSTANTS, streamDelivered: 0 };
    expect(meetingLoad(allOnCamera, k)).toBeLessThan(meetingLoad(allOnCamera));
  });

  it('never decreases when a user, a microphone or a camera is added (monotonicity)', () => {
    // Deterministic pseudo-random meetings (LCG), a bounded number of them.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const steps: ((m: MeetingLoadInput) => MeetingLoadInput)[] = [
      (m) => ({ ...m, participants: m.participants + 1 }), // a viewer with no audio
      (m) => ({ ...m, participants: m.participants + 1, moderators: m.moderators + 1 }),
      (m) => ({ ...m, participants: m.participants + 1, listenOnly: m.listenOnly + 1 }),
      (m) => ({ ...m, participants: m.participants + 1, microphones: m.microphones + 1 }),
      (m) => ({ ...m, viewerCameras: m.viewerCameras + 1 }),
      (m) => ({ ...m, moderatorCameras: m.moderatorCameras + 1 }),
      // a listener switching to the microphone
      (m) => (m.listenOnly > 0 ? { ...m, listenOnly: m.listenOnly - 1, microphones: m.microphones + 1 } : m),
      // a viewer promoted to moderator
      (m) => (m.participants > m.moderators ? { ...m, moderators: m.moderators + 1 } : m),
    ];
    for (let i = 0; i < 500; i++) {
      const participants = 1 + rnd(300);
      const moderators = rnd(Math.min(5, participants) + 1);
      const listenOnly = rnd(participants - moderators + 1);
      const base = meeting({
        participants,
        moderators,
        listenOnly,
        microphones: rnd(participants - listenOnly + 1),
        moderatorCameras: moderators > 0 ? rnd(moderators + 1) : 0,
        viewerCameras: rnd(Math.min(30, participants - moderators) + 1),
        webcamsOnlyForModerator: rnd(2) === 1,
      });
      for (const step of steps) {
        expect(meetingLoad(step(base))).toBeGreaterThanOrEqual(meetingLoad(base));
        expect(serverLoad([base, step(base)])).toBeGreaterThanOrEqual(serverLoad([base, base]));
      }
    }
  });
});
