// A room's BBB meeting, run through the gateway's own create, join and end handlers
// (api/bbb/calls/*): placement, profiles, quotas and the camera rule apply exactly as for any
// BBB client of the room's tenant. A room costs nothing until its first join creates the meeting.
import { randomBytes } from 'node:crypto';
import type { Answer, Call, Gateway } from '../api/bbb/context.js';
import { create as createCall } from '../api/bbb/calls/create.js';
import { join as joinCall } from '../api/bbb/calls/join.js';
import { end as endCall } from '../api/bbb/calls/meetings.js';
import { isReachable } from '../api/bbb/pool-view.js';
import type { Tenant } from '../api/bbb/tenants.js';
import type { MeetingInfo } from '../bbb/types.js';
import { EXPECTED_CAMERAS_PARAM, EXPECTED_PARTICIPANTS_PARAM, PROFILE_PARAM } from '../policy/index.js';
import { type JoinRefusal, type LinkRole, type Room, roomMeetingId } from './types.js';

export interface LiveRoom {
  state: 'idle' | 'running';
  participants: number;
  moderators: number;
  cameras: number;
  listeners: number;
}

export type RoomJoin = { ok: true; redirect: string } | { ok: false; reason: JoinRefusal };

const IDLE: LiveRoom = { state: 'idle', participants: 0, moderators: 0, cameras: 0, listeners: 0 };

/** The meeting could not be ended for a reason other than its not running (its server failed). */
export class RoomMeetingError extends Error {}

/** Join outcomes of join.ts that are the meeting's or tenant's limits: the room is full. */
const FULL_OUTCOMES: ReadonlySet<string> = new Set(['camerasBeyondCurve', 'curve', 'maxParticipants', 'moderatorMargin', 'tenantQuota']);

/**
 * The BBB create parameters a room's meeting is created with: its title, welcome and recording,
 * and its profile and size as the gateway's own hints, so the policy sizes it as it would any
 * meeting (the /v1 API reads the room's limits from the same parameters).
 */
export function roomCreateParams(room: Room): Map<string, string> {
  const params = new Map<string, string>([
    ['meetingID', roomMeetingId(room.id)],
    // BBB wants 2..256 characters; a one-character title still names its meeting.
    ['name', room.title.length >= 2 ? room.title : `${room.title} `],
    ['record', String(room.record)],
  ]);
  if (room.welcome !== undefined) params.set('welcome', room.welcome);
  if (room.profile !== undefined) params.set(PROFILE_PARAM, room.profile);
  if (room.expectedParticipants !== undefined) params.set(EXPECTED_PARTICIPANTS_PARAM, String(room.expectedParticipants));
  if (room.expectedCameras !== undefined) params.set(EXPECTED_CAMERAS_PARAM, String(room.expectedCameras));
  return params;
}

export class RoomMeetings {
  constructor(private readonly gw: Gateway) {}

  /**
   * Sends one person into the room's meeting, creating it first when it is not running: the BBB
   * client URL to redirect them to, with a fresh userID, as moderator or viewer as their link says.
   */
  async join(room: Room, who: { name: string; role: LinkRole }, from: { clientIp: string; publicBase: string }): Promise<RoomJoin> {
    if (room.end !== undefined && room.end <= this.gw.store.ctx.now()) return { ok: false, reason: 'ended' };
    try {
      const tenant = await this.gw.tenants.named(await this.meetingTenant(room));
      if (!tenant) return this.unavailable(room, 'the room tenant is unknown');
      let created = false;
      if (!(await this.running(tenant, room))) {
        const refused = await this.create(tenant, room, from);
        if (refused) return { ok: false, reason: refused };
        created = true;
      }
      let answer = await joinCall(this.gw, this.joinCall(tenant, room, who, from));
      // The meeting ended between the look and the join (or the poller forgot it): create it again, once.
      if (answer.outcome === 'refused' && !created) {
        const refused = await this.create(tenant, room, from);
        if (refused) return { ok: false, reason: refused };
        answer = await joinCall(this.gw, this.joinCall(tenant, room, who, from));
      }
      if (answer.outcome === 'success' && 'redirect' in answer) return { ok: true, redirect: answer.redirect };
      if (answer.outcome === 'rateLimited') return { ok: false, reason: 'rateLimited' };
      if (FULL_OUTCOMES.has(answer.outcome)) return { ok: false, reason: 'full' };
      return this.unavailable(room, `join answered ${answer.outcome}`);
    } catch (err) {
      return this.unavailable(room, (err as Error).message);
    }
  }

  /** Ends the room's meeting; true when a running one was ended. Throws RoomMeetingError when its server fails. */
  async end(room: Room): Promise<boolean> {
    const tenant = await this.gw.tenants.named(await this.meetingTenant(room));
    if (!tenant || (await this.live(room)).state === 'idle') return false;
    const answer = await endCall(this.gw, this.call(tenant, 'end', new Map([['meetingID', roomMeetingId(room.id)]]), { clientIp: '', publicBase: '' }));
    if (answer.outcome === 'success') return true;
    if (answer.outcome === 'notFound') return false;
    throw new RoomMeetingError(`the room's meeting could not be ended (${answer.outcome})`);
  }

  /** The room's meeting as its server describes it now (else as polled): idle when none runs. */
  async live(room: Room): Promise<LiveRoom> {
    const info = await this.info(await this.meetingTenant(room), room);
    if (!info || !info.running || info.endTime > 0 || info.hasBeenForciblyEnded) {
      // Created and not yet joined: BBB says not running, but the meeting is there, waiting.
      if (info && !info.hasBeenForciblyEnded && info.endTime === 0) return { ...IDLE, state: 'running' };
      return IDLE;
    }
    return {
      state: 'running',
      participants: info.participantCount,
      moderators: info.moderatorCount,
      cameras: info.videoCount,
      listeners: info.listenerCount,
    };
  }

  /**
   * The tenant the room's meeting runs under: the one it left when its owner moved, while a
   * meeting started there still runs (it stays where it runs), else the room's own.
   */
  private async meetingTenant(room: Room): Promise<string> {
    const old = room.meetingTenant;
    if (old === undefined || old === room.tenant) return room.tenant;
    const meeting = await this.gw.store.meetings.get(old, roomMeetingId(room.id));
    if (!meeting || (meeting.info && (meeting.info.hasBeenForciblyEnded || meeting.info.endTime > 0))) return room.tenant;
    return isReachable(await this.gw.pool.server(meeting.server)) ? old : room.tenant;
  }

  private async info(tenant: string, room: Room): Promise<MeetingInfo | undefined> {
    const meeting = await this.gw.store.meetings.get(tenant, roomMeetingId(room.id));
    if (!meeting) return undefined;
    const server = await this.gw.pool.server(meeting.server);
    if (!isReachable(server)) return undefined;
    const live = await this.gw.liveReads.read(this.gw, meeting, server);
    if (live === 'gone') return undefined;
    return live ?? meeting.info;
  }

  /**
   * Whether a meeting of the room is placed on a reachable server and not ended. An ended one
   * still on record (the poller has not dropped it yet) is forgotten here, so that the next
   * meeting is placed afresh on the server with most room rather than where the last one ran.
   */
  private async running(tenant: Tenant, room: Room): Promise<boolean> {
    const meetingID = roomMeetingId(room.id);
    const meeting = await this.gw.store.meetings.get(tenant.name, meetingID);
    if (!meeting) return false;
    if (meeting.info && (meeting.info.hasBeenForciblyEnded || meeting.info.endTime > 0)) {
      await this.gw.store.meetings.forget(tenant.name, meetingID, meeting.server);
      return false;
    }
    return meeting.status === 'running' && isReachable(await this.gw.pool.server(meeting.server));
  }

  /** Creates the room's meeting; the refusal when the gateway would not. */
  private async create(tenant: Tenant, room: Room, from: { clientIp: string; publicBase: string }): Promise<JoinRefusal | undefined> {
    const answer = await createCall(this.gw, this.call(tenant, 'create', roomCreateParams(room), from));
    if (answer.outcome === 'success' || answer.outcome === 'duplicate') return undefined;
    if (answer.outcome === 'quotaExceeded') return 'full';
    this.gw.log.warn({ room: room.id, tenant: tenant.name, outcome: answer.outcome, answer: describe(answer) }, 'room meeting create refused');
    return 'unavailable';
  }

  private joinCall(tenant: Tenant, room: Room, who: { name: string; role: LinkRole }, from: { clientIp: string; publicBase: string }): Call {
    const params = new Map([
      ['meetingID', roomMeetingId(room.id)],
      ['fullName', who.name],
      ['role', who.role === 'moderator' ? 'MODERATOR' : 'VIEWER'],
      // Each join is its own seat: two people giving the same name are two people.
      ['userID', `amphi-${randomBytes(12).toString('base64url')}`],
      ['redirect', 'true'],
    ]);
    return this.call(tenant, 'join', params, from);
  }

  private call(tenant: Tenant, callName: string, params: Map<string, string>, from: { clientIp: string; publicBase: string }): Call {
    return { request: { callName, method: 'GET', rawQuery: '', params }, tenant, publicBase: from.publicBase, clientIp: from.clientIp };
  }

  private unavailable(room: Room, why: string): RoomJoin {
    this.gw.log.warn({ room: room.id, tenant: room.tenant, why }, 'room join unavailable');
    return { ok: false, reason: 'unavailable' };
  }
}

/** A refused create's BBB message, for the log. */
function describe(answer: Answer): string {
  if ('redirect' in answer) return answer.redirect;
  return String(answer.xml).replace(/\s+/g, ' ').slice(0, 300);
}
