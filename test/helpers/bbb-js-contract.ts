// What an LMS plugin built on the unmodified npm client bigbluebutton-js (sha1, querystring
// encoding, fast-xml-parser) must see from a BBB endpoint: run against the simulator and
// against the gateway, so both answer the client identically.
import bbb from 'bigbluebutton-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, json } from './sim-http.js';

export interface BbbJsTarget {
  /** What the library is given: it appends /api/<call>. */
  host: string;
  secret: string;
  /** Makes what servers did visible to the endpoint (the gateway's getMeetings answers from polled state). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Follows redirects as a browser does, up to the simulated HTML5 client. */
async function followToClient(url: string): Promise<{ location: string; entered: ReturnType<typeof json> }> {
  let location = url;
  for (let hop = 0; hop < 3; hop++) {
    const answer = await http(location);
    if (answer.status !== 302) return { location, entered: json(answer) };
    location = answer.headers.location ?? '';
  }
  throw new Error(`too many redirects from ${url}`);
}

export function bbbJsContract(name: string, start: () => Promise<BbbJsTarget>): void {
  describe(`bigbluebutton-js against ${name}`, () => {
    let target: BbbJsTarget;
    let api: ReturnType<typeof bbb.api>;
    const meetingID = 'js-client-room';

    beforeAll(async () => {
      target = await start();
      api = bbb.api(target.host, target.secret);
    });
    afterAll(() => target?.close());

    it('creates a meeting, and a second create is a duplicate', async () => {
      const created = await bbb.http(api.administration.create('JS Room', meetingID, { attendeePW: 'ap', moderatorPW: 'mp', record: false }));
      expect(created).toMatchObject({
        returncode: 'SUCCESS',
        meetingID,
        parentMeetingID: 'bbb-none',
        attendeePW: 'ap',
        moderatorPW: 'mp',
        dialNumber: '613-555-1234',
        hasBeenForciblyEnded: false,
      });
      expect(String(created.internalMeetingID)).toMatch(/^[0-9a-f]{40}-\d+$/);
      const again = await bbb.http(api.administration.create('JS Room', meetingID, { attendeePW: 'ap', moderatorPW: 'mp' }));
      expect(again).toMatchObject({ returncode: 'SUCCESS', messageKey: 'duplicateWarning', internalMeetingID: created.internalMeetingID });
    });

    it('builds a join URL whose redirects lead into the meeting', async () => {
      const url = api.administration.join('Ada Lovelace', meetingID, 'mp', { userID: 'ada' });
      const { location, entered } = await followToClient(url);
      expect(location).toMatch(/\/html5client\/join\?sessionToken=/);
      expect((entered as { response: unknown }).response).toMatchObject({ returncode: 'SUCCESS', role: 'MODERATOR' });
    });

    it('joins with redirect=false and parses the XML', async () => {
      const joined = await bbb.http(api.administration.join('Viewer', meetingID, 'ap', { redirect: false }));
      expect(joined).toMatchObject({ returncode: 'SUCCESS', messageKey: 'successfullyJoined', guestStatus: 'ALLOW' });
      expect(String(joined.url)).toContain('/html5client/join?sessionToken=');
    });

    it('reads getMeetingInfo and isMeetingRunning right after the join, and getMeetings', async () => {
      const info = await bbb.http(api.monitoring.getMeetingInfo(meetingID));
      expect(info).toMatchObject({
        returncode: 'SUCCESS',
        meetingName: 'JS Room',
        meetingID,
        running: true,
        participantCount: 1,
        moderatorCount: 1,
        hasUserJoined: true,
      });
      expect(info.attendees).toMatchObject({ attendee: { userID: 'ada', fullName: 'Ada Lovelace', role: 'MODERATOR' } });
      expect(await bbb.http(api.monitoring.isMeetingRunning(meetingID))).toEqual({ returncode: 'SUCCESS', running: true });
      // getMeetings answers from the polled state: a poll first.
      await target.sync();
      const list = await bbb.http(api.monitoring.getMeetings());
      expect(list.returncode).toBe('SUCCESS');
      expect(list.meetings).toEqual([expect.objectContaining({ meetingID, participantCount: 1 })]);
    });

    it('reads getRecordings', async () => {
      const recordings = await bbb.http(api.recording.getRecordings({ meetingID }));
      expect(recordings).toMatchObject({ returncode: 'SUCCESS', messageKey: 'noRecordings' });
    });

    it('ends the meeting', async () => {
      const ended = await bbb.http(api.administration.end(meetingID, 'mp'));
      expect(ended).toMatchObject({ returncode: 'SUCCESS', messageKey: 'sentEndMeetingRequest' });
      await target.sync();
      expect(await bbb.http(api.monitoring.getMeetingInfo(meetingID))).toMatchObject({ returncode: 'FAILED', messageKey: 'notFound' });
      expect(await bbb.http(api.monitoring.getMeetings())).toMatchObject({ returncode: 'SUCCESS', messageKey: 'noMeetings' });
    });

    it('is refused with the wrong secret', async () => {
      const wrong = bbb.api(target.host, 'not-the-secret');
      expect(await bbb.http(wrong.monitoring.getMeetings())).toMatchObject({ returncode: 'FAILED', messageKey: 'checksumError' });
    });
  });
}
