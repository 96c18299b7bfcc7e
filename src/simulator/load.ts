// A CPU-like load figure for a simulated BBB server, in percent of all its cores (0–100, and
// above 100 when overloaded). Pure arithmetic: the simulator exposes it as bbb_sim_cpu_percent,
// the way a real server's node exporter would show CPU to a poller.
//
// What costs CPU on a BBB server, roughly in order: camera streams *delivered* by the SFU (each
// camera is forwarded, encrypted, to every participant allowed to see it), microphones (mixed
// by FreeSWITCH), listen-only streams, the per-user work of the client back-end (akka, GraphQL),
// and a per-meeting base (a conference, its presentation and chat). The constants below are in
// "percent of one core" and are calibrated on the published sizing (capacity.md): an 8-core
// server carries about 200 users (e.g. 4 meetings of 50, one presenter camera each, a few
// microphones, the rest listen-only) at ≈ 80 %, and 20 users all on camera (380 delivered
// streams) is heavier than that (≈ 89 %): BBB's docs say audio degrades near 80 %.

export interface MeetingLoadInput {
  participants: number;
  moderators: number;
  listenOnly: number;
  microphones: number;
  /** Camera streams published by moderators. */
  moderatorCameras: number;
  /** Camera streams published by viewers. */
  viewerCameras: number;
  /** Viewers' cameras then reach moderators only. */
  webcamsOnlyForModerator: boolean;
}

export interface LoadConstants {
  /** Per meeting: the conference, presentation, chat, akka actor. */
  meeting: number;
  /** Per participant: client back-end work (GraphQL/akka session, user list updates). */
  participant: number;
  /** Per listen-only user: one audio stream out of FreeSWITCH. */
  listenOnly: number;
  /** Per microphone: decoded and mixed by FreeSWITCH, about four listen-only streams' worth. */
  microphone: number;
  /** Per camera published: the SFU ingests it once. */
  cameraPublished: number;
  /** Per camera stream delivered to one viewer: the dominant cost with many cameras. */
  streamDelivered: number;
}

export const DEFAULT_LOAD_CONSTANTS: Readonly<LoadConstants> = {
  meeting: 5,
  participant: 0.8,
  listenOnly: 0.5,
  microphone: 2,
  cameraPublished: 2,
  streamDelivered: 1.6,
};

export const DEFAULT_CORES = 8;

/** Streams the SFU sends for one meeting: each camera to every other user who may see it. */
export function deliveredStreams(m: MeetingLoadInput): number {
  const others = Math.max(0, m.participants - 1);
  const viewerAudience = m.webcamsOnlyForModerator ? m.moderators : others;
  return m.moderatorCameras * others + m.viewerCameras * viewerAudience;
}

/** One meeting's cost in percent of one core. */
export function meetingLoad(m: MeetingLoadInput, k: Readonly<LoadConstants> = DEFAULT_LOAD_CONSTANTS): number {
  return (
    k.meeting +
    k.participant * m.participants +
    k.listenOnly * m.listenOnly +
    k.microphone * m.microphones +
    k.cameraPublished * (m.moderatorCameras + m.viewerCameras) +
    k.streamDelivered * deliveredStreams(m)
  );
}

export interface ServerLoadOptions {
  cores?: number;
  constants?: Readonly<LoadConstants>;
}

/** The server's CPU figure in percent of all its cores, rounded to 0.1. */
export function serverLoad(meetings: Iterable<MeetingLoadInput>, opts: ServerLoadOptions = {}): number {
  const cores = Math.max(1, opts.cores ?? DEFAULT_CORES);
  let total = 0;
  for (const m of meetings) total += meetingLoad(m, opts.constants);
  return Math.round((total / cores) * 10) / 10;
}
