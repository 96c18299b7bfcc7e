import { describe, expect, it } from 'vitest';
import { BbbClientError } from '../../src/bbb/client.js';
import type { MeetingInfo } from '../../src/bbb/types.js';
import type { Gateway } from '../../src/api/bbb/context.js';
import { LiveMeetingReads } from '../../src/api/bbb/live-reads.js';
import type { MeetingRecord, ServerRecord } from '../../src/state/types.js';

const meeting = { ref: 'acme:room', tenant: 'acme', meetingID: 'room', upstreamID: 'acme~room', server: 's1' } as MeetingRecord;
const server = { id: 's1' } as ServerRecord;
const info = { meetingID: 'acme~room', running: true, participantCount: 3, attendees: [] } as unknown as MeetingInfo;

/** A gateway whose meeting server answers `answer` to getMeetingInfo, counting the calls. */
function fakeGateway(answer: () => Promise<MeetingInfo>) {
  const calls: string[] = [];
  const refreshed: MeetingInfo[] = [];
  const gw = {
    pool: { client: () => ({ getMeetingInfo: (id: string) => (calls.push(id), answer()) }) },
    store: { meetings: { refreshLive: async (_t: string, _m: string, _s: string, i: MeetingInfo) => (refreshed.push(i), true) } },
    log: { warn: () => {} },
  } as unknown as Gateway;
  return { gw, calls, refreshed };
}

describe('live meeting reads', () => {
  it('shares one upstream call among concurrent readers, answers in the tenant namespace, and writes it over the polled state', async () => {
    const { gw, calls, refreshed } = fakeGateway(async () => info);
    const reads = new LiveMeetingReads({ timeoutMs: 1000, cacheMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => reads.read(gw, meeting, server)));
    expect(calls).toEqual(['acme~room']);
    expect(answers.every((a) => a !== 'gone' && a?.meetingID === 'room' && a.participantCount === 3)).toBe(true);
    expect(refreshed).toHaveLength(1);
    // Cached: no second call, until a join or end through this gateway drops the answer.
    await reads.read(gw, meeting, server);
    expect(calls).toHaveLength(1);
    reads.forget(meeting.ref);
    await reads.read(gw, meeting, server);
    expect(calls).toHaveLength(2);
  });

  it('reads a meeting the server does not know as gone', async () => {
    const { gw } = fakeGateway(async () => {
      throw new BbbClientError({ kind: 'failed', server: 'x', callName: 'getMeetingInfo', detail: 'notFound', messageKey: 'notFound' });
    });
    expect(await new LiveMeetingReads({ timeoutMs: 1000, cacheMs: 0 }).read(gw, meeting, server)).toBe('gone');
  });

  it('falls back to the polled state when the server fails, and leaves it alone for a while', async () => {
    const { gw, calls } = fakeGateway(async () => {
      throw new BbbClientError({ kind: 'timeout', server: 'x', callName: 'getMeetingInfo', detail: 'no answer' });
    });
    const reads = new LiveMeetingReads({ timeoutMs: 100, cacheMs: 0 });
    expect(await reads.read(gw, meeting, server)).toBeUndefined();
    expect(await reads.read(gw, meeting, server)).toBeUndefined();
    expect(calls).toHaveLength(1);
  });
});
