// The server load model, in load units. One unit is roughly one participant who only listens.
// Defaults follow the BBB sizing facts: a standard 8-core / 250 Mbit/s server carries about
// 200 users in a few meetings with some cameras at ~80 % (6 × 25 users with 5 cameras each
// ≈ 435 of 500 units); video is what saturates it, since every camera is sent to every
// other participant who may see it (20 users all on camera = 380 streams delivered).

export interface LoadWeights {
  /** Fixed cost of a running meeting (processes, recording, whiteboard). */
  perMeeting: number;
  perParticipant: number;
  /** A voice connection, listen-only or microphone (FreeSWITCH mixing). */
  perVoice: number;
  /** One camera stream delivered to one viewer (SFU egress, the bandwidth-bound part). */
  perStreamDelivered: number;
}

export const DEFAULT_LOAD_WEIGHTS: LoadWeights = {
  perMeeting: 5,
  perParticipant: 1,
  perVoice: 0.5,
  perStreamDelivered: 0.25,
};

/** Capacity in load units by server size class. */
export const DEFAULT_SIZE_CLASSES: Readonly<Record<string, number>> = {
  small: 250, // 4 cores
  standard: 500, // 8 cores, the BBB recommendation
  large: 1000, // 16 cores: the only size that holds a 350-participant webinar
};

export interface MeetingCounts {
  participants: number;
  voice: number;
  /** Camera streams being broadcast (BBB's videoCount). */
  videos: number;
  /** Moderators, who alone see viewers' cameras when webcamsOnlyForModerator is set. */
  moderators?: number;
  webcamsOnlyForModerator?: boolean;
}

/** Streams delivered: each camera goes to every other participant allowed to see it. */
export function streamsDelivered(m: MeetingCounts): number {
  if (m.videos <= 0 || m.participants <= 1) return 0;
  const viewers = m.webcamsOnlyForModerator ? Math.max(1, m.moderators ?? 1) : m.participants;
  return m.videos * Math.max(0, viewers - 1);
}

export function meetingLoad(m: MeetingCounts, w: LoadWeights = DEFAULT_LOAD_WEIGHTS): number {
  return (
    w.perMeeting + w.perParticipant * m.participants + w.perVoice * m.voice + w.perStreamDelivered * streamsDelivered(m)
  );
}

/** Expected load of a meeting that has not started: all participants on audio. */
export function expectedMeetingLoad(participants: number, cameras: number, w: LoadWeights = DEFAULT_LOAD_WEIGHTS): number {
  return meetingLoad({ participants, voice: participants, videos: cameras }, w);
}

/**
 * What a young meeting still reserves: its expected load fades linearly to zero over
 * `fadeMs` (a meeting that stays small must not hold capacity for ever) and is reduced by
 * whatever the poller has already measured of it (that part is in the measured load).
 */
export function fadedReservation(reserved: number, ageMs: number, fadeMs: number, measured: number): number {
  if (ageMs >= fadeMs) return 0;
  const remaining = reserved * (1 - Math.max(0, ageMs) / fadeMs);
  return Math.max(0, remaining - measured);
}
