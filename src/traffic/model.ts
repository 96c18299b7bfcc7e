// The traffic of a school morning, as a schedule of user actions. Pure and clock-free: it
// turns options and a random source into a time-ordered list of events (in simulated ms from
// the start), which the driver plays against a BBB API, compressed in time.
//
// The shape follows what a national platform sees on a school day: almost nothing before
// 7:45, a surge of classes around 8:00, then a new wave on every hour as lessons change.
// Classes are 15–35 pupils with a teacher who creates the room and joins first; pupils arrive
// over the first minutes; a few per class turn a camera on, a few take the microphone; most
// leave at the end, when the teacher ends the meeting. A few webinars of 100–300 people run
// alongside, with a registration cap (maxParticipants) that late-comers can hit.
import { Rng, seededRandom } from './random.js';
import type { RandomSource } from './random.js';

export type Role = 'MODERATOR' | 'VIEWER';
export type TrafficAudioMode = 'mic' | 'listen';

interface EventBase {
  /** Simulated milliseconds since the start of the schedule. */
  at: number;
  meeting: string;
}

export interface CreateEvent extends EventBase {
  kind: 'create';
  name: string;
  /** Expected participants, teacher included: the size hint given to the gateway. */
  size: number;
  /** Cameras the organiser expects at once: the camera hint given to the gateway. */
  expectedCameras: number;
  webinar: boolean;
  /** BBB maxParticipants set on create; 0 = no cap. */
  maxParticipants: number;
  /** Planned length (simulated ms), also BBB's `duration` rounded up to minutes. */
  durationMs: number;
}

export interface JoinEvent extends EventBase {
  kind: 'join';
  user: string;
  fullName: string;
  role: Role;
}

export interface CameraEvent extends EventBase {
  kind: 'camera';
  user: string;
  on: boolean;
}

export interface AudioEvent extends EventBase {
  kind: 'audio';
  user: string;
  mode: TrafficAudioMode;
}

export interface LeaveEvent extends EventBase {
  kind: 'leave';
  user: string;
}

export interface EndEvent extends EventBase {
  kind: 'end';
}

export type TrafficEvent = CreateEvent | JoinEvent | CameraEvent | AudioEvent | LeaveEvent | EndEvent;
export type TrafficEventKind = TrafficEvent['kind'];

export interface IntRange {
  min: number;
  max: number;
}

export interface TrafficModelOptions {
  /** Simulated length of the window in which classes start, in ms. */
  durationMs: number;
  /** Simulated time of day at t = 0, in minutes after midnight. Default 7:40. */
  startMinuteOfDay?: number;
  /** Meetings starting per simulated hour once school is in (averaged over an hour). Default 40. */
  classesPerHour?: number;
  /** Relative start rate (0–1) by minute of the day. Default: schoolMorningProfile. */
  profile?: (minuteOfDay: number) => number;
  /** Share of meetings that are webinars. Default 0.04. */
  webinarShare?: number;
  /** Pupils + teacher of a class, drawn around the middle. Default 15–35. */
  classSize?: IntRange;
  /** Registered seats of a webinar. Default 100–300. */
  webinarSize?: IntRange;
  /** Lesson length in minutes. Default 45–55. */
  lessonMinutes?: IntRange;
  /** Webinar length in minutes. Default 60–90. */
  webinarMinutes?: IntRange;
  /** Most pupils arrive within this many minutes of the start. Default 5. */
  arrivalSpreadMinutes?: number;
  /** Share of pupils arriving late (up to 20 minutes). Default 0.05. */
  lateShare?: number;
  /** Share of a class's roster that never comes. Default 0.05. */
  absentShare?: number;
  /** Webinar turnout relative to seats (above 1: some are refused). Default 0.9–1.15. */
  webinarTurnout?: { min: number; max: number };
  /** Probability the teacher's camera is on. Default 0.8. */
  teacherCameraShare?: number;
  /** Probability a pupil turns a camera on at some point. Default 0.25 (webinars: 0.01). */
  cameraShare?: number;
  /** Probability a camera that was turned on is turned off before leaving. Default 0.5. */
  cameraOffShare?: number;
  /** Probability a participant joins with the microphone rather than listen-only. Default 0.2 (webinars: 0.02). */
  micShare?: number;
  /** Probability a listener takes the microphone for a question later on. Default 0.1. */
  questionShare?: number;
  /** Probability a participant leaves well before the end. Default 0.08. */
  earlyLeaveShare?: number;
  /** Probability the teacher ends the meeting (else everybody leaves and it expires). Default 0.8. */
  endShare?: number;
  /** Upper bound on meetings, whatever the rate. Default 10,000. */
  maxMeetings?: number;
  /** Prefix of meeting IDs. Default 'amphi-demo'. */
  idPrefix?: string;
}

export interface MeetingPlan {
  meeting: string;
  name: string;
  webinar: boolean;
  startAt: number;
  endAt: number;
  /** Expected participants (the size hint). */
  size: number;
  expectedCameras: number;
  /** People who try to join, teacher included. */
  attendees: number;
  maxParticipants: number;
  /** Whether the schedule ends it with a BBB end call. */
  endedByTeacher: boolean;
}

export interface Schedule {
  events: TrafficEvent[];
  meetings: MeetingPlan[];
}

const MINUTE = 60_000;
const SECOND = 1_000;

/**
 * A school day's relative start rate: nothing before 7:30, rising to full by 8:00, and on
 * top of a low background, a wave of starts around each hour (lessons change on the hour);
 * the day winds down from 17:00 and is over by 18:00, so a long run has quiet nights.
 */
export function schoolMorningProfile(minuteOfDay: number): number {
  const m = ((minuteOfDay % 1440) + 1440) % 1440;
  const morning = Math.min(1, Math.max(0, (m - 450) / 30), Math.max(0, (1080 - m) / 60));
  const offHour = m % 60;
  const distance = Math.min(offHour, 60 - offHour);
  const wave = Math.exp(-(distance * distance) / (2 * 5 * 5));
  return morning * (0.15 + 0.85 * wave);
}

/** `HH:MM` of a simulated time, for the view. */
export function clockLabel(startMinuteOfDay: number, simulatedMs: number): string {
  const total = Math.floor(startMinuteOfDay + simulatedMs / MINUTE);
  const minutes = ((total % 1440) + 1440) % 1440;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The expected number of meeting starts per hour at full rate, for a profile. */
function profileHourIntegral(profile: (minuteOfDay: number) => number): number {
  // Averaged over 9:00–12:00, where a school profile is in its steady hourly rhythm.
  let sum = 0;
  for (let m = 540; m < 720; m++) sum += Math.min(1, Math.max(0, profile(m + 0.5)));
  return sum / 3;
}

const SUBJECTS = ['Maths', 'Français', 'Histoire-géo', 'Anglais', 'SVT', 'Physique-chimie', 'Espagnol', 'Philosophie', 'SES', 'Technologie'];
const GRADES = ['6e', '5e', '4e', '3e', '2nde', '1re', 'Tle'];
const WEBINARS = ['Réforme du bac', 'Sécurité numérique', 'Formation ENT', 'Conseil pédagogique', 'Orientation post-bac'];

interface Defaults {
  startMinuteOfDay: number;
  classesPerHour: number;
  webinarShare: number;
  classSize: IntRange;
  webinarSize: IntRange;
  lessonMinutes: IntRange;
  webinarMinutes: IntRange;
  arrivalSpreadMinutes: number;
  lateShare: number;
  absentShare: number;
  webinarTurnout: { min: number; max: number };
  teacherCameraShare: number;
  cameraShare: number;
  cameraOffShare: number;
  micShare: number;
  questionShare: number;
  earlyLeaveShare: number;
  endShare: number;
  maxMeetings: number;
  idPrefix: string;
}

const DEFAULTS: Defaults = {
  startMinuteOfDay: 7 * 60 + 40,
  classesPerHour: 40,
  webinarShare: 0.04,
  classSize: { min: 15, max: 35 },
  webinarSize: { min: 100, max: 300 },
  lessonMinutes: { min: 45, max: 55 },
  webinarMinutes: { min: 60, max: 90 },
  arrivalSpreadMinutes: 5,
  lateShare: 0.05,
  absentShare: 0.05,
  webinarTurnout: { min: 0.9, max: 1.15 },
  teacherCameraShare: 0.8,
  cameraShare: 0.25,
  cameraOffShare: 0.5,
  micShare: 0.2,
  questionShare: 0.1,
  earlyLeaveShare: 0.08,
  endShare: 0.8,
  maxMeetings: 10_000,
  idPrefix: 'amphi-demo',
};

/** Builds the schedule. Deterministic for a given random source (default: seed 1). */
export function generateSchedule(options: TrafficModelOptions, random: RandomSource = seededRandom(1)): Schedule {
  const o: Defaults = { ...DEFAULTS, ...stripUndefined(options) };
  const profile = options.profile ?? schoolMorningProfile;
  const rng = new Rng(random);
  const events: TrafficEvent[] = [];
  const meetings: MeetingPlan[] = [];
  if (!(options.durationMs > 0) || !(o.classesPerHour > 0)) return { events, meetings };

  // Poisson arrivals with a time-varying rate, by thinning: candidates at the peak rate, each
  // kept with probability profile(t).
  const integral = profileHourIntegral(profile);
  if (!(integral > 0)) return { events, meetings };
  const peakPerMinute = o.classesPerHour / integral;
  let t = 0;
  while (meetings.length < o.maxMeetings) {
    t += rng.exponential(1 / peakPerMinute) * MINUTE;
    if (t >= options.durationMs) break;
    const factor = Math.min(1, Math.max(0, profile(o.startMinuteOfDay + t / MINUTE)));
    if (!rng.chance(factor)) continue;
    const plan = planMeeting(rng, o, meetings.length + 1, Math.round(t));
    meetings.push(plan);
    addMeetingEvents(rng, o, plan, events);
  }

  // Each participant's events are generated in time order, and every event of a meeting comes
  // after its create: a stable sort on time keeps both properties for equal timestamps.
  const order = new Map(events.map((e, i) => [e, i]));
  events.sort((a, b) => a.at - b.at || order.get(a)! - order.get(b)!);
  return { events, meetings };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function planMeeting(rng: Rng, o: Defaults, seq: number, startAt: number): MeetingPlan {
  const webinar = rng.chance(o.webinarShare);
  const id = `${o.idPrefix}-${String(seq).padStart(4, '0')}`;
  if (webinar) {
    const size = rng.int(o.webinarSize.min, o.webinarSize.max);
    const attendees = Math.max(1, Math.round(size * rng.uniform(o.webinarTurnout.min, o.webinarTurnout.max)));
    const minutes = rng.int(o.webinarMinutes.min, o.webinarMinutes.max);
    return {
      meeting: id,
      name: `Webinaire – ${rng.pick(WEBINARS)}`,
      webinar,
      startAt,
      endAt: startAt + minutes * MINUTE,
      size,
      // The host's camera; the audience watches.
      expectedCameras: 1,
      attendees,
      maxParticipants: size,
      endedByTeacher: rng.chance(o.endShare),
    };
  }
  const { min, max } = o.classSize;
  const size = rng.normalInt((min + max) / 2, (max - min) / 4, min, max);
  let attendees = 1;
  for (let i = 1; i < size; i++) if (!rng.chance(o.absentShare)) attendees++;
  const minutes = rng.int(o.lessonMinutes.min, o.lessonMinutes.max);
  return {
    meeting: id,
    name: `${rng.pick(GRADES)} ${String.fromCharCode(65 + rng.int(0, 5))} – ${rng.pick(SUBJECTS)}`,
    webinar,
    startAt,
    endAt: startAt + minutes * MINUTE,
    size,
    expectedCameras: Math.max(1, Math.round(o.teacherCameraShare + o.cameraShare * (size - 1))),
    attendees,
    maxParticipants: 0,
    endedByTeacher: rng.chance(o.endShare),
  };
}

function addMeetingEvents(rng: Rng, o: Defaults, plan: MeetingPlan, out: TrafficEvent[]): void {
  const { meeting, startAt: start, endAt: end } = plan;
  out.push({
    at: start,
    kind: 'create',
    meeting,
    name: plan.name,
    size: plan.size,
    expectedCameras: plan.expectedCameras,
    webinar: plan.webinar,
    maxParticipants: plan.maxParticipants,
    durationMs: end - start,
  });

  // The teacher (or webinar host) starts the room from the LMS: create, then join at once.
  const host = `${meeting}-u000`;
  const hostJoin = start + Math.round(rng.uniform(1, 5) * SECOND);
  // After the host's own first actions (audio, camera), however short the meeting.
  const hostLeave = Math.max(end, hostJoin + 90 * SECOND) + Math.round(rng.uniform(0, 60) * SECOND);
  out.push({ at: hostJoin, kind: 'join', meeting, user: host, fullName: plan.webinar ? 'Hôte' : 'Professeur', role: 'MODERATOR' });
  out.push({ at: hostJoin + Math.round(rng.uniform(3, 15) * SECOND), kind: 'audio', meeting, user: host, mode: 'mic' });
  if (rng.chance(o.teacherCameraShare)) {
    out.push({ at: hostJoin + Math.round(rng.uniform(20, 60) * SECOND), kind: 'camera', meeting, user: host, on: true });
  }

  const cameraShare = plan.webinar ? Math.min(o.cameraShare, 0.01) : o.cameraShare;
  const micShare = plan.webinar ? Math.min(o.micShare, 0.02) : o.micShare;
  // Nobody arrives in the last two minutes, so every stay lasts at least a little while.
  const lastArrival = Math.max(start + 10 * SECOND, end - 2 * MINUTE);
  for (let u = 1; u < plan.attendees; u++) {
    const user = `${meeting}-u${String(u).padStart(3, '0')}`;
    const delay = rng.chance(o.lateShare)
      ? rng.uniform(o.arrivalSpreadMinutes, 20) * MINUTE
      : Math.min(rng.exponential(o.arrivalSpreadMinutes / 3), o.arrivalSpreadMinutes) * MINUTE;
    const join = Math.round(Math.min(lastArrival, hostJoin + 2 * SECOND + delay));
    const leave = Math.round(
      rng.chance(o.earlyLeaveShare)
        ? rng.uniform(Math.min(join + MINUTE, end - 30 * SECOND), end)
        : end - rng.uniform(0, 2) * MINUTE,
    );
    // A stay is at least 30 s: audio is set up in the first seconds, then cameras and questions.
    const until = Math.max(leave, join + 30 * SECOND);
    out.push({ at: join, kind: 'join', meeting, user, fullName: `Élève ${u}`, role: 'VIEWER' });
    const audioAt = join + Math.round(rng.uniform(3, 15) * SECOND);
    const mic = rng.chance(micShare);
    out.push({ at: audioAt, kind: 'audio', meeting, user, mode: mic ? 'mic' : 'listen' });

    if (!mic && rng.chance(o.questionShare) && until - audioAt > 3 * MINUTE) {
      const ask = Math.round(rng.uniform(audioAt + MINUTE, until - 2 * MINUTE));
      out.push({ at: ask, kind: 'audio', meeting, user, mode: 'mic' });
      out.push({ at: ask + Math.round(rng.uniform(20, 90) * SECOND), kind: 'audio', meeting, user, mode: 'listen' });
    }
    if (rng.chance(cameraShare) && until - audioAt > MINUTE) {
      const on = Math.round(rng.uniform(audioAt + SECOND, Math.min(audioAt + 3 * MINUTE, until - 30 * SECOND)));
      out.push({ at: on, kind: 'camera', meeting, user, on: true });
      if (rng.chance(o.cameraOffShare) && until - on > 2 * MINUTE) {
        out.push({ at: Math.round(rng.uniform(on + MINUTE, until - 30 * SECOND)), kind: 'camera', meeting, user, on: false });
      }
    }
    out.push({ at: until, kind: 'leave', meeting, user });
  }

  if (plan.endedByTeacher) {
    // The teacher ends the meeting, which takes everybody still inside out with them.
    out.push({ at: hostLeave, kind: 'end', meeting });
  } else {
    out.push({ at: hostLeave, kind: 'leave', meeting, user: host });
  }
}
