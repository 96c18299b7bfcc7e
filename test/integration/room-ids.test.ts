// The rooms' meeting IDs on the BBB API (src/api/bbb/calls/room-ids.ts): visible, not usable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roomMeetingId } from '../../src/rooms/types.js';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

describe("the BBB API and the rooms' meeting IDs", () => {
  let pool: TestPool;
  let gw: TestGateway;
  const id = roomMeetingId('rAAAAAAAAAAAAAAAAAAAAAA');

  beforeAll(async () => {
    pool = await startTestPool({ servers: 1, label: 'room-ids' });
    gw = await pool.startGateway();
  });
  afterAll(async () => pool.close());

  const messageKeyOf = async (callName: string, params: [string, string][], opts = {}) => {
    const answer = await gw.client.callRaw(callName, params, opts);
    expect(answer.status).toBe(200);
    return /<messageKey>([^<]*)<\/messageKey>/.exec(answer.body)?.[1];
  };

  it('refuses create, join, end, sendChatMessage and insertDocument for them, however the ID is spelled', async () => {
    for (const meetingID of [id, `${id}-more`, `amphi-\u0001room-x`]) {
      expect(await messageKeyOf('create', [['meetingID', meetingID], ['name', 'Squat']])).toBe('meetingIdReserved');
      expect(await messageKeyOf('join', [['meetingID', meetingID], ['fullName', 'Intruder'], ['role', 'MODERATOR'], ['redirect', 'false']])).toBe('meetingIdReserved');
      expect(await messageKeyOf('end', [['meetingID', meetingID]])).toBe('meetingIdReserved');
      expect(await messageKeyOf('sendChatMessage', [['meetingID', meetingID], ['message', 'hi']])).toBe('meetingIdReserved');
      expect(await messageKeyOf('insertDocument', [['meetingID', meetingID]], { method: 'POST', body: '<modules/>', contentType: 'application/xml' })).toBe('meetingIdReserved');
    }
    // A join that redirects is refused with BBB's join-error redirect, not sent to a server.
    const res = await fetch(gw.client.url('join', [['meetingID', id], ['fullName', 'Intruder'], ['role', 'MODERATOR']]), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('meetingIdReserved');
  });

  it('still answers reads of them (getMeetingInfo: notFound here), and other IDs as before', async () => {
    expect(await messageKeyOf('getMeetingInfo', [['meetingID', id]])).toBe('notFound');
    expect(await messageKeyOf('create', [['meetingID', 'amphi-roomy'], ['name', 'Not a room']])).toBe('');
  });
});
