// The rooms' meetings (rooms/types.ts ROOM_MEETING_PREFIX) are the /v1 API's and the join
// links': a BBB client of the room's tenant may see them (getMeetings, getMeetingInfo), but not
// create one before its first link join (squatting it with its own parameters), enter one
// without a link (past its revocations, use limits and end), end one or act inside it.
// rooms/room-meetings.ts calls the handlers themselves, unguarded.
import { renderFailed } from '../../../bbb/responses.js';
import { ROOM_MEETING_PREFIX } from '../../../rooms/types.js';
import { type CallHandler, xml } from '../context.js';
import { joinError } from './join.js';

export const ROOM_ID_RESERVED = {
  messageKey: 'meetingIdReserved',
  message: `Meeting IDs starting with "${ROOM_MEETING_PREFIX}" are reserved for the gateway's rooms.`,
};

/** The handler, refusing a meeting ID of the rooms (as parsed: decoded, control characters gone). */
export function outsideRooms(handler: CallHandler): CallHandler {
  return async (gw, call) => {
    if (!call.request.params.get('meetingID')?.startsWith(ROOM_MEETING_PREFIX)) return handler(gw, call);
    // A refused join answers as BBB's join errors do: a redirect unless redirect=false.
    return call.request.callName === 'join' ? joinError(call, ROOM_ID_RESERVED, 'invalid') : xml(renderFailed(ROOM_ID_RESERVED), 'invalid');
  };
}
