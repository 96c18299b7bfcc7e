import { BBB_ERRORS } from '../../../bbb/errors.js';
import { renderApiVersion, renderFailed } from '../../../bbb/responses.js';
import { type Answer, type Call, type CallHandler, type Gateway, xml } from '../context.js';
import { create } from './create.js';
import { join } from './join.js';
import { end, forwardToMeeting, getMeetingInfo, getMeetings, isMeetingRunning } from './meetings.js';
import { outsideRooms } from './room-ids.js';
import { deleteRecordings, getRecordings, publishRecordings, updateRecordings } from './recordings.js';

export interface CallSpec {
  handler: CallHandler;
  methods: readonly string[];
  /** The recording calls keep bbb-web's legacy checksum message. */
  legacyChecksum?: boolean;
  /** Asks every server (recordings): counted against the tenant's fan-out budget as well. */
  fansOut?: boolean;
}

const GET_POST = ['GET', 'POST'];

export const UNSUPPORTED = { messageKey: 'unsupportedRequest', message: 'This request is not supported.' };

const unsupported: CallHandler = async () => xml(renderFailed(UNSUPPORTED), 'unsupported');

/** The BBB API version answer; the index call needs no checksum. */
export async function apiIndex(_gw: Gateway, call: Call, apiPath: string): Promise<Answer> {
  return xml(renderApiVersion({ version: '2.0', apiVersion: '2.0', bbbVersion: '', apiUrl: `${call.publicBase}${apiPath}` }));
}

// A Map, not an object literal: a call named `constructor` or `__proto__` must find nothing.
export const CALLS: ReadonlyMap<string, CallSpec> = new Map(
  Object.entries({
    create: { handler: outsideRooms(create), methods: GET_POST },
    join: { handler: outsideRooms(join), methods: ['GET'] }, // POST on join was removed in BBB 2.6.18 / 2.7.8
    end: { handler: outsideRooms(end), methods: GET_POST },
    isMeetingRunning: { handler: isMeetingRunning, methods: GET_POST },
    getMeetingInfo: { handler: getMeetingInfo, methods: GET_POST },
    getMeetings: { handler: getMeetings, methods: GET_POST },
    insertDocument: { handler: outsideRooms(forwardToMeeting), methods: ['POST'] },
    sendChatMessage: { handler: outsideRooms(forwardToMeeting), methods: ['GET'] },
    getRecordings: { handler: getRecordings, methods: GET_POST, legacyChecksum: true, fansOut: true },
    publishRecordings: { handler: publishRecordings, methods: GET_POST, legacyChecksum: true, fansOut: true },
    deleteRecordings: { handler: deleteRecordings, methods: GET_POST, legacyChecksum: true, fansOut: true },
    updateRecordings: { handler: updateRecordings, methods: GET_POST, legacyChecksum: true, fansOut: true },
    // Real BBB calls a pool gateway does not serve (client-internal, webhooks, text tracks).
    getSessions: { handler: unsupported, methods: GET_POST },
    getJoinUrl: { handler: unsupported, methods: GET_POST },
    getRecordingTextTracks: { handler: unsupported, methods: GET_POST, legacyChecksum: true },
    putRecordingTextTrack: { handler: unsupported, methods: ['POST'], legacyChecksum: true },
    'hooks/create': { handler: unsupported, methods: ['GET'] },
    'hooks/destroy': { handler: unsupported, methods: ['GET'] },
    'hooks/list': { handler: unsupported, methods: ['GET'] },
  } satisfies Record<string, CallSpec>),
);

export const REQUEST_NOT_RECOGNIZED = BBB_ERRORS.requestNotRecognized;
