import { BbbClientError } from '../../bbb/client.js';
import type { MeetingInfo } from '../../bbb/types.js';
import type { MeetingRecord, ServerRecord } from '../../state/types.js';
import type { Gateway } from './context.js';

export interface LiveReadOptions {
  /** How long a read waits for the meeting's server before answering from the polled state. */
  timeoutMs: number;
  /** How long one live answer serves every reader of the meeting. */
  cacheMs: number;
}

/** What the meeting's server said: the meeting, or that it has none by that ID. */
export type LiveInfo = MeetingInfo | 'gone';

/** After a server failed a live read, its meetings are read from the polled state for this long. */
const SUSPEND_AFTER_FAILURE_MS = 5_000;

interface Cached {
  value: LiveInfo;
  expires: number;
}

/**
 * getMeetingInfo and isMeetingRunning as the meeting's server answers them now, so a client
 * reading right after a join sees it (as on a BBB server or behind Scalelite), not a poll later.
 * Readers of one meeting share one upstream call and, for `cacheMs`, its answer; a join or an
 * end through this gateway drops that answer. A server that is slow or unreachable answers
 * nothing: the caller falls back to the polled state, and the server is not asked again for a
 * few seconds, so a dead server still never slows these reads for long. Each live answer is
 * written over the polled state, so join admission counts the users who entered.
 */
export class LiveMeetingReads {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<LiveInfo | undefined>>();
  private readonly suspended = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly opts: LiveReadOptions) {}

  /** The live answer, or undefined when the polled state must do. */
  read(gw: Gateway, meeting: MeetingRecord, server: ServerRecord): Promise<LiveInfo | undefined> {
    const now = Date.now();
    const cached = this.cache.get(meeting.ref);
    if (cached && cached.expires > now) return Promise.resolve(cached.value);
    if ((this.suspended.get(server.id) ?? 0) > now) return Promise.resolve(undefined);
    let pending = this.inflight.get(meeting.ref);
    if (!pending) {
      pending = this.ask(gw, meeting, server).finally(() => this.inflight.delete(meeting.ref));
      this.inflight.set(meeting.ref, pending);
    }
    return pending;
  }

  /** A join was admitted or the meeting ended through this gateway: the last answer is stale. */
  forget(ref: string): void {
    this.cache.delete(ref);
  }

  private async ask(gw: Gateway, meeting: MeetingRecord, server: ServerRecord): Promise<LiveInfo | undefined> {
    let value: LiveInfo;
    try {
      const info = await gw.pool.client(server).getMeetingInfo(meeting.upstreamID, { timeoutMs: this.opts.timeoutMs });
      value = { ...info, meetingID: meeting.meetingID };
    } catch (err) {
      if (err instanceof BbbClientError && err.kind === 'failed' && err.messageKey === 'notFound') {
        value = 'gone';
      } else {
        // A BBB FAILED answer concerns that meeting; only a server that does not answer (or
        // answers garbage) is left alone, for every meeting on it.
        if (!(err instanceof BbbClientError && err.kind === 'failed')) this.suspended.set(server.id, Date.now() + SUSPEND_AFTER_FAILURE_MS);
        gw.log.warn({ server: server.id, err: (err as Error).message }, 'live meeting read failed; answering from the polled state');
        return undefined;
      }
    }
    if (this.opts.cacheMs > 0) {
      this.cache.set(meeting.ref, { value, expires: Date.now() + this.opts.cacheMs });
      this.sweep();
    }
    if (value !== 'gone') {
      // The read already has its answer; a failed write only leaves the polled state as it was.
      await gw.store.meetings.refreshLive(meeting.tenant, meeting.meetingID, server.id, value).catch((err: unknown) => {
        gw.log.warn({ err: (err as Error).message }, 'live meeting read: could not update the stored meeting');
      });
    }
    return value;
  }

  /** Drops expired answers now and then, so meetings read once do not stay in memory. */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.opts.cacheMs) return;
    this.lastSweep = now;
    for (const [ref, entry] of this.cache) if (entry.expires <= now) this.cache.delete(ref);
  }
}
