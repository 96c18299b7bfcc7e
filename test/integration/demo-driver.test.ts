// The traffic driver against a real gateway on a simulated pool, with a hand-written schedule
// whose every outcome is known: joins that enter, one refused by maxParticipants, a camera
// refused by the meeting's cap, a leave, an end that takes the last user out, and events
// that must be skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrafficDriver } from '../../src/traffic/driver.js';
import type { TrafficEvent } from '../../src/traffic/model.js';
import { GATEWAY_SECRET, startTestPool } from '../helpers/gateway.js';
import type { TestGateway, TestPool } from '../helpers/gateway.js';

let pool: TestPool;
let gateway: TestGateway;

beforeAll(async () => {
  pool = await startTestPool({ servers: 2, label: 'demo-driver' });
  gateway = await pool.startGateway();
});

afterAll(async () => {
  await pool?.close();
});

const S = 1000;
const m = 'driver-class-1';
const tooLong = `bad-${'x'.repeat(300)}`;
const schedule: TrafficEvent[] = [
  { at: 0, kind: 'create', meeting: m, name: 'Maths', size: 3, expectedCameras: 1, webinar: false, maxParticipants: 3, durationMs: 60 * S },
  { at: 1 * S, kind: 'join', meeting: m, user: 't', fullName: 'Teacher', role: 'MODERATOR' },
  { at: 2 * S, kind: 'join', meeting: m, user: 'a', fullName: 'Alice', role: 'VIEWER' },
  { at: 3 * S, kind: 'join', meeting: m, user: 'b', fullName: 'Bob', role: 'VIEWER' },
  { at: 4 * S, kind: 'join', meeting: m, user: 'c', fullName: 'Carol', role: 'VIEWER' },
  { at: 5 * S, kind: 'camera', meeting: m, user: 't', on: true },
  { at: 6 * S, kind: 'camera', meeting: m, user: 'a', on: true },
  { at: 6.5 * S, kind: 'audio', meeting: m, user: 'a', mode: 'mic' },
  { at: 7 * S, kind: 'camera', meeting: m, user: 't', on: false },
  { at: 8 * S, kind: 'leave', meeting: m, user: 'a' },
  { at: 8.5 * S, kind: 'camera', meeting: m, user: 'c', on: true },
  { at: 9 * S, kind: 'end', meeting: m },
  { at: 10 * S, kind: 'leave', meeting: m, user: 'b' },
  // BBB refuses a meeting ID this long: the create fails and its join is never sent.
  { at: 11 * S, kind: 'create', meeting: tooLong, name: 'Broken', size: 2, expectedCameras: 1, webinar: false, maxParticipants: 0, durationMs: 60 * S },
  { at: 12 * S, kind: 'join', meeting: tooLong, user: 'z', fullName: 'Zed', role: 'VIEWER' },
];

describe('traffic driver through the gateway', () => {
  it('plays every call and counts each outcome where it happened', async () => {
    // A camera cap of one makes the second camera a refusal the server decides.
    const driver = new TrafficDriver({
      apiUrl: `${gateway.url}/bigbluebutton/api`,
      secret: GATEWAY_SECRET,
      // 100 ms of real time between events: each step is answered before the next one starts,
      // as with people clicking, so the outcome does not depend on request timing.
      speed: 10,
      concurrency: 4,
      timeoutMs: 3000,
      createParams: { meetingCameraCap: '1' },
    });
    try {
      // Watch the meeting while it runs: at the end call everybody is gone.
      let peak = 0;
      const watch = setInterval(() => {
        for (const { server } of pool.cluster.servers()) peak = Math.max(peak, server.totals().participants);
      }, 1);
      await driver.play(schedule);
      clearInterval(watch);

      const c = driver.counters;
      expect(c.errors).toEqual({});
      expect(c).toMatchObject({
        events: schedule.length,
        dispatched: schedule.length,
        creates: 2,
        created: 1,
        joins: 4,
        joined: 3,
        entered: 3,
        refused: { maxParticipantsReached: 1 },
        cameraOn: 1,
        cameraOff: 1,
        cameraRefused: { meetingCameraCap: 1 },
        audioChanges: 1,
        left: 1,
        ended: 1,
        // Carol's camera (never entered), Bob's leave (the end took him out), Zed's join.
        skipped: 3,
        // Gateway: 2 creates, 4 joins, 1 end.
        gatewayRequests: 7,
        inFlight: 0,
        queued: 0,
      });
      expect(Object.keys(c.createFailed)).toHaveLength(1);
      // Carol's refusal comes from the gateway's admission or, without it, from the server:
      // either way one join fewer reaches a server. Servers also get 3 client loads and 5
      // control calls.
      const byGateway = (await gateway.gateway.metrics.refusedJoins.get()).values.reduce((a, v) => a + v.value, 0);
      expect(byGateway).toBeLessThanOrEqual(1);
      expect(c.requests).toBe(7 + (4 - byGateway) + 3 + 5);
      expect(driver.inside).toBe(0);

      // The meeting really ran on one simulated server, with the users who entered.
      const hosts = pool.cluster.servers().filter(({ server }) => server.totals().meetingsCreatedTotal > 0);
      expect(hosts).toHaveLength(1);
      expect(peak).toBe(3);
      // The end destroyed it (bbb-web keeps no ended meeting by default).
      expect(hosts[0]!.server.state().meetings.find((x) => x.meetingID === m)).toBeUndefined();
      expect(hosts[0]!.server.totals()).toMatchObject({ meetings: 0, participants: 0 });
    } finally {
      await driver.close();
    }
  });

  it('counts transport failures as errors and stops promptly when asked', async () => {
    // Nothing listens on port 9 of loopback (discard): every request is refused at once.
    const driver = new TrafficDriver({ apiUrl: 'http://127.0.0.1:9/bigbluebutton/api', secret: 'x', speed: 1, timeoutMs: 2000 });
    const far: TrafficEvent[] = [
      { at: 0, kind: 'create', meeting: 'unreachable', name: 'n', size: 2, expectedCameras: 1, webinar: false, maxParticipants: 0, durationMs: 1000 },
      { at: 10, kind: 'join', meeting: 'unreachable', user: 'u', fullName: 'U', role: 'VIEWER' },
      // An hour away: stop() must not wait for it.
      { at: 3_600_000, kind: 'end', meeting: 'unreachable' },
    ];
    const played = driver.play(far);
    const deadline = Date.now() + 10_000;
    while (driver.counters.dispatched < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    while (driver.counters.skipped < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await driver.close();
    await played;
    expect(driver.counters.created).toBe(0);
    expect(Object.keys(driver.counters.errors)).toEqual(['create: refused']);
    expect(driver.counters.skipped).toBe(1);
    expect(driver.counters.dispatched).toBe(2);
  });
});
