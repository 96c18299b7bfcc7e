// What the simulated servers themselves would report for a morning, without running it: the
// simulator's own CPU model (src/simulator/load.ts) applied to every meeting the schedule holds,
// minute by minute and meeting by meeting. Used to fill the scaler's demand history and its large
// meetings' arrivals with earlier mornings (what the scaler would have recorded had it run them)
// — never to grade a run: a run is graded on what its servers reported (grade.ts).
import { meetingLoad } from '../simulator/load.js';
import type { MeetingLoadInput } from '../simulator/load.js';
import type { TrafficEvent } from '../traffic/model.js';

interface MeetingState {
  users: Map<string, { moderator: boolean; audio: 'none' | 'listen' | 'mic'; camera: boolean }>;
}

/** One meeting's CPU cost (percent of one core) from its users, as the simulator computes it. */
function costOf(m: MeetingState): number {
  const input: MeetingLoadInput = { participants: 0, moderators: 0, listenOnly: 0, microphones: 0, moderatorCameras: 0, viewerCameras: 0, webcamsOnlyForModerator: false };
  for (const u of m.users.values()) {
    input.participants++;
    if (u.moderator) input.moderators++;
    if (u.audio === 'listen') input.listenOnly++;
    if (u.audio === 'mic') input.microphones++;
    if (u.camera) {
      if (u.moderator) input.moderatorCameras++;
      else input.viewerCameras++;
    }
  }
  return input.participants === 0 ? 0 : meetingLoad(input);
}

/**
 * The schedule's CPU demand at every multiple of `stepMs` in [0, durationMs): the sum over its
 * meetings of their cost in percent of one core, every event up to that instant applied. A
 * meeting's users and their audio and cameras follow the events; `end` empties it.
 */
export function cpuTimeline(events: readonly TrafficEvent[], stepMs: number, durationMs: number): number[] {
  const meetings = new Map<string, MeetingState>();
  const out: number[] = [];
  let i = 0;
  for (let t = 0; t < durationMs; t += stepMs) {
    for (; i < events.length && events[i]!.at <= t; i++) apply(meetings, events[i]!);
    let total = 0;
    for (const m of meetings.values()) total += costOf(m);
    out.push(total);
  }
  return out;
}

/**
 * Each meeting's creation instant and the highest CPU cost (percent of one core) it reached, every
 * event applied in turn: what its server would have shown of it at worst.
 */
export function meetingPeaks(events: readonly TrafficEvent[]): Map<string, { createdAt: number; peak: number }> {
  const meetings = new Map<string, MeetingState>();
  const out = new Map<string, { createdAt: number; peak: number }>();
  for (const e of events) {
    apply(meetings, e);
    if (e.kind === 'create' && !out.has(e.meeting)) out.set(e.meeting, { createdAt: e.at, peak: 0 });
    const m = meetings.get(e.meeting);
    const seen = out.get(e.meeting);
    if (m && seen) seen.peak = Math.max(seen.peak, costOf(m));
  }
  return out;
}

function apply(meetings: Map<string, MeetingState>, e: TrafficEvent): void {
  switch (e.kind) {
    case 'create':
      if (!meetings.has(e.meeting)) meetings.set(e.meeting, { users: new Map() });
      return;
    case 'join':
      meetings.get(e.meeting)?.users.set(e.user, { moderator: e.role === 'MODERATOR', audio: 'none', camera: false });
      return;
    case 'audio': {
      const u = meetings.get(e.meeting)?.users.get(e.user);
      if (u) u.audio = e.mode;
      return;
    }
    case 'camera': {
      const u = meetings.get(e.meeting)?.users.get(e.user);
      if (u) u.camera = e.on;
      return;
    }
    case 'leave':
      meetings.get(e.meeting)?.users.delete(e.user);
      return;
    case 'end':
      meetings.delete(e.meeting);
      return;
  }
}
