// A school morning from 7:30 to 12:30 as a timetable, for `amphi scenario`: staff meetings before
// the bell, classes that change on the hour, webinars of the ministry across two lessons, and a
// half-day slot at noon. Pure: options and a random source in, the same event list the traffic
// driver plays (src/traffic/model.ts types) out, in simulated ms from 7:30.
//
// Unlike the demo's Poisson traffic, the size of the morning is set by its peak: the busiest
// slot brings `peakUsers` people at once (roster minus absentees), so `--peak-users 30000`
// means 30,000 concurrent users, not a rate that might or might not reach it.
import { Rng } from '../traffic/random.js';
import type { RandomSource } from '../traffic/random.js';
import type { MeetingPlan, Schedule, TrafficEvent } from '../traffic/model.js';

const SECOND = 1_000;
const MINUTE = 60_000;

/** The morning's length: 7:30 to 12:30. */
export const MORNING_MS = 5 * 60 * MINUTE;
export const MORNING_START_MINUTE = 7 * 60 + 30;

export interface MorningOptions {
  peakUsers: number;
  /** Prefix of meeting IDs. */
  idPrefix?: string;
}

/** Share of the peak each lesson slot brings, by its start (minutes after 7:30). */
const SLOTS: readonly { at: number; share: number }[] = [
  { at: 30, share: 0.86 }, // 8:00
  { at: 90, share: 0.92 }, // 9:00 (webinars start at 9:30 on top)
  { at: 150, share: 0.9 }, // 10:00 (webinars still running)
  { at: 210, share: 1 }, // 11:00: the peak
  { at: 270, share: 0.38 }, // 12:00: half a day for most
];
/** Webinars run 9:30 to 11:00 (± a few minutes) and hold this share of the peak. */
const WEBINAR_SHARE = 0.07;
const WEBINAR_START = 120;
/** Staff meetings from 7:35 to 7:58, this share of the peak. */
const STAFF_SHARE = 0.05;

const SUBJECTS = ['Maths', 'Français', 'Histoire-géo', 'Anglais', 'SVT', 'Physique-chimie', 'Espagnol', 'Allemand', 'SES', 'Technologie'];
const GRADES = ['6e', '5e', '4e', '3e', '2nde', '1re', 'Tle'];

interface MeetingShape {
  kind: 'class' | 'webinar' | 'staff';
  startAt: number;
  endAt: number;
  roster: number;
  /** People who come, host included. */
  attendees: number;
  /** Participants who turn a camera on (host included when the host does). */
  cameras: number;
}

/**
 * The morning's meetings and events. Deterministic for a given random source. The busiest
 * moment (11:00 with the default shares) holds about `peakUsers` participants.
 */
export function generateMorning(options: MorningOptions, random: RandomSource): Schedule {
  const rng = new Rng(random);
  const peak = Math.max(0, Math.floor(options.peakUsers));
  const prefix = options.idPrefix ?? 'morning';
  const shapes: MeetingShape[] = [];

  // Staff meetings: 10 to 40 teachers, a few cameras, before the first bell.
  fill(peak * STAFF_SHARE, () => {
    const roster = rng.int(10, 40);
    const startAt = rng.int(5, 12) * MINUTE;
    return { kind: 'staff', startAt, endAt: startAt + rng.int(12, 18) * MINUTE, roster, attendees: attendance(rng, roster, 0.1), cameras: rng.int(2, Math.min(8, roster)) };
  });
  // Webinars: 150 to 350 seats, the host's camera only (the camera rule's one-camera point).
  fill(peak * WEBINAR_SHARE, () => {
    const roster = rng.int(150, 350);
    const startAt = (WEBINAR_START + rng.int(-5, 5)) * MINUTE;
    return { kind: 'webinar', startAt, endAt: startAt + rng.int(80, 90) * MINUTE, roster, attendees: attendance(rng, roster, 0.08), cameras: 1 };
  });
  // Lessons: classes of 20 to 35 with 5 to 30 cameras, mostly few.
  for (const slot of SLOTS) {
    const webinarsRunning = slot.at >= WEBINAR_START - 30 && slot.at < WEBINAR_START + 60 ? WEBINAR_SHARE : 0;
    fill(peak * Math.max(0, slot.share - webinarsRunning), () => {
      const roster = rng.int(20, 35);
      const startAt = slot.at * MINUTE;
      const attendees = attendance(rng, roster, 0.05);
      // Skewed low: a few classes with everybody on camera, most with a handful.
      const cameras = Math.min(attendees, 5 + Math.floor(25 * rng.uniform(0, 1) ** 4));
      return { kind: 'class', startAt, endAt: startAt + rng.int(54, 57) * MINUTE, roster, attendees, cameras };
    });
  }

  const meetings: MeetingPlan[] = [];
  const events: TrafficEvent[] = [];
  shapes.forEach((shape, i) => {
    const plan = toPlan(rng, shape, `${prefix}-${String(i + 1).padStart(5, '0')}`);
    meetings.push(plan);
    addEvents(rng, shape, plan, events);
  });
  const order = new Map(events.map((e, i) => [e, i]));
  events.sort((a, b) => a.at - b.at || order.get(a)! - order.get(b)!);
  return { events, meetings };

  /** Adds meetings until their attendees reach `users`. */
  function fill(users: number, next: () => MeetingShape): void {
    let total = 0;
    while (total < users) {
      const shape = next();
      shapes.push(shape);
      total += shape.attendees;
    }
  }
}

function attendance(rng: Rng, roster: number, absentShare: number): number {
  let n = 1; // the host always comes
  for (let i = 1; i < roster; i++) if (!rng.chance(absentShare)) n++;
  return n;
}

function toPlan(rng: Rng, s: MeetingShape, meeting: string): MeetingPlan {
  const name =
    s.kind === 'class' ? `${rng.pick(GRADES)} ${String.fromCharCode(65 + rng.int(0, 5))} – ${rng.pick(SUBJECTS)}` : s.kind === 'webinar' ? 'Webinaire – Réforme du bac' : 'Conseil pédagogique';
  return {
    meeting,
    name,
    webinar: s.kind === 'webinar',
    startAt: s.startAt,
    endAt: s.endAt,
    size: s.roster,
    expectedCameras: s.cameras,
    attendees: s.attendees,
    // A webinar's seats are its registrations: turnout stays within them here.
    maxParticipants: s.kind === 'webinar' ? s.roster : 0,
    endedByTeacher: true,
  };
}

/**
 * The host creates and joins; participants arrive over the first minutes (a few late), connect
 * audio (the host and a few on the microphone), some turn a camera on; the host ends the meeting,
 * which takes everybody out with one call.
 */
function addEvents(rng: Rng, s: MeetingShape, plan: MeetingPlan, out: TrafficEvent[]): void {
  const { meeting } = plan;
  const start = s.startAt - (s.kind === 'class' ? rng.int(0, 90) * SECOND : 0);
  out.push({ at: start, kind: 'create', meeting, name: plan.name, size: plan.size, expectedCameras: plan.expectedCameras, webinar: plan.webinar, maxParticipants: plan.maxParticipants, durationMs: s.endAt - s.startAt + 5 * MINUTE });
  const hostJoin = start + rng.int(2, 20) * SECOND;
  const host = `${meeting}-u000`;
  out.push({ at: hostJoin, kind: 'join', meeting, user: host, fullName: s.kind === 'class' ? 'Professeur' : 'Hôte', role: 'MODERATOR' });
  out.push({ at: hostJoin + rng.int(3, 10) * SECOND, kind: 'audio', meeting, user: host, mode: 'mic' });
  out.push({ at: hostJoin + rng.int(15, 40) * SECOND, kind: 'camera', meeting, user: host, on: true });

  const lastArrival = s.endAt - 10 * MINUTE;
  const micShare = s.kind === 'webinar' ? 0.01 : 0.12;
  for (let u = 1; u < s.attendees; u++) {
    const user = `${meeting}-u${String(u).padStart(3, '0')}`;
    const late = rng.chance(0.04);
    const delay = late ? rng.uniform(6, 15) * MINUTE : Math.min(rng.exponential(1.5), 5) * MINUTE;
    const join = Math.round(Math.min(lastArrival, hostJoin + 5 * SECOND + delay));
    out.push({ at: join, kind: 'join', meeting, user, fullName: `Participant ${u}`, role: s.kind === 'staff' ? 'MODERATOR' : 'VIEWER' });
    out.push({ at: join + rng.int(3, 15) * SECOND, kind: 'audio', meeting, user, mode: rng.chance(micShare) ? 'mic' : 'listen' });
    // The first cameras-1 participants of the roster are the ones who show themselves.
    if (u < s.cameras) out.push({ at: join + rng.int(20, 120) * SECOND, kind: 'camera', meeting, user, on: true });
  }
  out.push({ at: s.endAt, kind: 'end', meeting });
}
