import type { StoreContext } from './context.js';
import { meetingRef } from './keys.js';
import { runScript } from './scripts.js';
import type { PolledMeeting, PolledTotals, ServerHealth, ServerState } from './types.js';

export interface PollThresholds {
  /** Consecutive failed polls before a server is marked offline. */
  offlineAfter: number;
  /** Consecutive successful polls before an offline server is marked online again. */
  onlineAfter: number;
  /** Meetings younger than this are never forgotten (their create may be in flight). */
  graceMs: number;
  fadeMs: number;
}

export interface PollApplied {
  repinned: number;
  forgotten: number;
  health: ServerHealth | 'gone';
  state: ServerState | 'gone';
}

/**
 * A join admitted this long before a poll is in that poll's counts (the client has loaded and
 * entered by then), so its pending entry is dropped instead of being counted twice.
 */
export const PENDING_WINDOW_MS = 15_000;

/** Writes poll outcomes into the store; both steps are atomic Lua scripts. */
export class PollWriter {
  constructor(private readonly ctx: StoreContext) {}

  async success(serverId: string, totals: PolledTotals, meetings: readonly PolledMeeting[], t: PollThresholds): Promise<PollApplied> {
    const { keys } = this.ctx;
    const scriptKeys = [keys.server(serverId), keys.reservations(serverId), keys.serverMeetings(serverId), keys.meetings];
    const args: (string | number)[] = [
      this.ctx.now(),
      t.graceMs,
      t.fadeMs,
      serverId,
      t.onlineAfter,
      JSON.stringify(totals),
      keys.prefix,
      PENDING_WINDOW_MS,
    ];
    for (const m of meetings) {
      const ref = meetingRef(m.tenant, m.meetingID);
      scriptKeys.push(keys.meeting(ref), keys.inside(ref), keys.pending(ref));
      const inside = JSON.stringify(m.info.attendees.map((a) => a.userID));
      args.push(ref, m.tenant, m.meetingID, m.upstreamID, m.createTime, m.measuredLoad, JSON.stringify(m.info));
      args.push(m.info.participantCount, m.info.videoCount, inside);
    }
    const [repinned, forgotten, health, state] = (await runScript(this.ctx.redis, 'apply-poll', scriptKeys, args)) as [
      number,
      number,
      PollApplied['health'],
      PollApplied['state'],
    ];
    return { repinned, forgotten, health, state };
  }

  async failure(serverId: string, error: string, offlineAfter: number): Promise<ServerHealth | 'gone'> {
    return (await runScript(this.ctx.redis, 'poll-failed', [this.ctx.keys.server(serverId)], [
      this.ctx.now(),
      offlineAfter,
      error.slice(0, 500),
    ])) as ServerHealth | 'gone';
  }
}
