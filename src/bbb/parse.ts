// Parsing of BBB XML answers into the typed shapes of types.ts (the upstream client's side).
// The parser gives one node for a single element and an array for repeats, so every repeatable element (attendee, meeting,
// recording, format, image, breakout) may come back as undefined, one node or an array, and an
// empty container may be '' (`<x/>`, `<x></x>`) or whitespace (`<x>\n</x>`). The helpers below
// absorb those shapes so the mappers can stay declarative.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type {
  ApiVersion,
  Attendee,
  BbbMessage,
  CreateResult,
  JoinResult,
  MeetingInfo,
  Recording,
  RecordingFormat,
  RecordingImage,
  Role,
} from './types.js';

/** The text is not XML, or it is XML without a `<response>` root, or a required field is missing. */
export class MalformedXmlError extends Error {
  override readonly name = 'MalformedXmlError';
}

export type XmlNode = Record<string, unknown>;

// No value processors: ids such as meetingID "0123" or voiceBridge must stay strings.
const ESCAPE = '#';
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function isFormatting(text: string, isLeaf: boolean): boolean {
  return /^\s*$/.test(text) && (!isLeaf || /[\r\n]/.test(text));
}

// fast-xml-parser: xml2js parsing dominated a poll round over 200 servers (bench/poll-round).
// Set up for simple shapes: text as strings, attributes under `$` and the text beside them
// under `_`, nothing converted to numbers.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '$',
  textNodeName: '_',
  parseTagValue: false,
  parseAttributeValue: false,
  // Text is kept exactly (meeting IDs differing only by surrounding spaces are different
  // meetings); only the indentation between elements goes. bbb-web strips control characters
  // from every value, so whitespace with a line break in it is never data.
  trimValues: false,
  tagValueProcessor: (_name, value, _path, _hasAttributes, isLeaf) => (isFormatting(value, isLeaf) ? '' : value),
  ignoreDeclaration: true,
  // Metadata names are the caller's (meta_constructor is valid BBB): names fast-xml-parser
  // refuses or renames are escaped with a character no XML name has, and recordOf unescapes.
  transformTagName: (name) => (RESERVED_NAMES.has(name) ? `${ESCAPE}${name}` : name),
  onDangerousProperty: (name) => `${ESCAPE}${name}`,
});

/** Parses a BBB answer and returns the object inside `<response>` ({} for `<response/>`). */
export async function parseXml(xml: string): Promise<XmlNode> {
  const valid = xml.trim() === '' ? { err: { msg: 'empty document' } } : XMLValidator.validate(xml);
  if (valid !== true) throw new MalformedXmlError(`not XML: ${valid.err.msg}`);
  let parsed: unknown;
  try {
    parsed = parser.parse(xml);
  } catch (err) {
    throw new MalformedXmlError(`not XML: ${firstLine(err)}`, { cause: err });
  }
  // A document without a <response> root (or an empty one) is no BBB answer.
  if (!isNode(parsed) || !hasOwn(parsed, 'response')) {
    throw new MalformedXmlError('XML answer has no <response> root element');
  }
  const response = parsed.response;
  if (isNode(response)) return response;
  // `<response/>` or a text-only `<response>` has no fields.
  return {};
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Own properties only: parsed objects inherit from Object.prototype, so `node.constructor`
// would otherwise "exist" for every node.
function hasOwn(node: XmlNode, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(node, name);
}

function child(node: unknown, name: string): unknown {
  return isNode(node) && hasOwn(node, name) ? node[name] : undefined;
}

/** The character data of a parsed value (attributes turn text into `{ _: text }`). */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // A repeated element: the last one wins, like a map put. This also recovers elements named
  // after Object.prototype members, should a parser turn them into `[inherited, value]`.
  if (Array.isArray(value)) return textOf(value.at(-1));
  if (isNode(value)) {
    const text = value['_'];
    return typeof text === 'string' ? text : '';
  }
  return undefined;
}

function str(node: unknown, name: string): string {
  return textOf(child(node, name)) ?? '';
}

function optStr(node: unknown, name: string): string | undefined {
  return textOf(child(node, name));
}

/** A field the answer cannot be used without; its absence means we were handed the wrong XML. */
function requiredStr(node: unknown, name: string, what: string): string {
  const value = optStr(node, name);
  if (value === undefined) throw new MalformedXmlError(`${what} answer has no <${name}>`);
  return value;
}

function numberFrom(text: string | undefined): number {
  if (text === undefined) return 0;
  // FreeMarker prints numbers without `?c` with grouping (e.g. maxUsers "1,500").
  const n = Number(text.trim().replace(/[,\s\u00a0\u202f]/g, ''));
  return Number.isFinite(n) ? n : 0;
}

function num(node: unknown, name: string): number {
  return numberFrom(optStr(node, name));
}

function optNum(node: unknown, name: string): number | undefined {
  const text = optStr(node, name);
  return text === undefined ? undefined : numberFrom(text);
}

// Java's Boolean.parseBoolean: only "true", in any case, is true.
function boolFrom(text: string | undefined): boolean {
  return text !== undefined && text.trim().toLowerCase() === 'true';
}

function bool(node: unknown, name: string): boolean {
  return boolFrom(optStr(node, name));
}

function optBool(node: unknown, name: string): boolean | undefined {
  const text = optStr(node, name);
  return text === undefined ? undefined : boolFrom(text);
}

/** `<flag>true</flag>` of a response, e.g. isMeetingRunning's running or publishRecordings' published. */
export function readFlag(resp: XmlNode, name: string): boolean {
  return bool(resp, name);
}

/** The entries of `<container><item/>…</container>`, whatever shape the parser gave them. */
function listOf(container: unknown, itemName: string): unknown[] {
  const items = child(container, itemName);
  if (items === undefined) return [];
  return Array.isArray(items) ? items : [items];
}

/** A container of free-form `<name>value</name>` children (metadata, customdata). */
function recordOf(container: unknown): Record<string, string> {
  if (!isNode(container)) return {};
  // fromEntries defines own properties, so a `__proto__` element stays plain data.
  return Object.fromEntries(
    Object.keys(container)
      .filter((key) => key !== '$' && key !== '_')
      .map((key) => [key.startsWith(ESCAPE) ? key.slice(ESCAPE.length) : key, textOf(container[key]) ?? '']),
  );
}

export function readReturnCode(resp: XmlNode): string {
  return str(resp, 'returncode').trim();
}

/**
 * messageKey/message of an answer. The list form of api-errors.ftlx
 * (`<errors><error><key/><message/></error></errors>`) reports its first error.
 */
export function readMessage(resp: XmlNode): BbbMessage {
  if (!hasOwn(resp, 'messageKey')) {
    const first = listOf(child(resp, 'errors'), 'error')[0];
    if (first !== undefined) return { messageKey: str(first, 'key'), message: str(first, 'message') };
  }
  return { messageKey: str(resp, 'messageKey'), message: str(resp, 'message') };
}

function toRole(text: string): Role {
  return text.trim().toUpperCase() === 'MODERATOR' ? 'MODERATOR' : 'VIEWER';
}

function toAttendee(node: unknown): Attendee {
  const attendee: Attendee = {
    userID: str(node, 'userID'),
    fullName: str(node, 'fullName'),
    role: toRole(str(node, 'role')),
    isPresenter: bool(node, 'isPresenter'),
    isListeningOnly: bool(node, 'isListeningOnly'),
    hasJoinedVoice: bool(node, 'hasJoinedVoice'),
    hasVideo: bool(node, 'hasVideo'),
    clientType: str(node, 'clientType'),
  };
  // Present (possibly empty) exactly when the server rendered the element.
  if (child(node, 'customdata') !== undefined) attendee.customdata = recordOf(child(node, 'customdata'));
  return attendee;
}

/** A getMeetingInfo `<response>` or one getMeetings `<meeting>`. */
export function toMeetingInfo(node: XmlNode): MeetingInfo {
  const info: MeetingInfo = {
    meetingName: str(node, 'meetingName'),
    meetingID: requiredStr(node, 'meetingID', 'getMeetingInfo'),
    internalMeetingID: str(node, 'internalMeetingID'),
    createTime: num(node, 'createTime'),
    createDate: str(node, 'createDate'),
    voiceBridge: str(node, 'voiceBridge'),
    dialNumber: str(node, 'dialNumber'),
    running: bool(node, 'running'),
    duration: num(node, 'duration'),
    hasUserJoined: bool(node, 'hasUserJoined'),
    recording: bool(node, 'recording'),
    hasBeenForciblyEnded: bool(node, 'hasBeenForciblyEnded'),
    startTime: num(node, 'startTime'),
    endTime: num(node, 'endTime'),
    participantCount: num(node, 'participantCount'),
    listenerCount: num(node, 'listenerCount'),
    voiceParticipantCount: num(node, 'voiceParticipantCount'),
    videoCount: num(node, 'videoCount'),
    maxUsers: num(node, 'maxUsers'),
    moderatorCount: num(node, 'moderatorCount'),
    attendees: listOf(child(node, 'attendees'), 'attendee').map(toAttendee),
    metadata: recordOf(child(node, 'metadata')),
    isBreakout: bool(node, 'isBreakout'),
  };
  addOptionalMeetingFields(info, node);
  return info;
}

// Newer templates omit unset passwords; breakout fields appear only for breakouts/parents.
function addOptionalMeetingFields(info: MeetingInfo, node: XmlNode): void {
  const attendeePW = optStr(node, 'attendeePW');
  if (attendeePW !== undefined) info.attendeePW = attendeePW;
  const moderatorPW = optStr(node, 'moderatorPW');
  if (moderatorPW !== undefined) info.moderatorPW = moderatorPW;
  const parentMeetingID = optStr(node, 'parentMeetingID');
  if (parentMeetingID !== undefined) info.parentMeetingID = parentMeetingID;
  const sequence = optNum(node, 'sequence');
  if (sequence !== undefined) info.sequence = sequence;
  const freeJoin = optBool(node, 'freeJoin');
  if (freeJoin !== undefined) info.freeJoin = freeJoin;
  if (child(node, 'breakoutRooms') !== undefined) {
    info.breakoutRooms = listOf(child(node, 'breakoutRooms'), 'breakout').map((b) => textOf(b) ?? '');
  }
}

/** getMeetings; the noMeetings answer (`<meetings/>`) gives []. */
export function toMeetings(resp: XmlNode): MeetingInfo[] {
  return listOf(child(resp, 'meetings'), 'meeting').map((m) => toMeetingInfo(isNode(m) ? m : {}));
}

export function toCreateResult(resp: XmlNode): CreateResult {
  const result: CreateResult = {
    meetingID: requiredStr(resp, 'meetingID', 'create'),
    internalMeetingID: str(resp, 'internalMeetingID'),
    parentMeetingID: str(resp, 'parentMeetingID'),
    createTime: num(resp, 'createTime'),
    voiceBridge: str(resp, 'voiceBridge'),
    dialNumber: str(resp, 'dialNumber'),
    createDate: str(resp, 'createDate'),
    hasUserJoined: bool(resp, 'hasUserJoined'),
    duration: num(resp, 'duration'),
    hasBeenForciblyEnded: bool(resp, 'hasBeenForciblyEnded'),
    ...readMessage(resp),
  };
  const attendeePW = optStr(resp, 'attendeePW');
  if (attendeePW !== undefined) result.attendeePW = attendeePW;
  const moderatorPW = optStr(resp, 'moderatorPW');
  if (moderatorPW !== undefined) result.moderatorPW = moderatorPW;
  return result;
}

/** join with redirect=false; the wire names are snake_case (`meeting_id` is the internal id). */
export function toJoinResult(resp: XmlNode): JoinResult {
  return {
    ...readMessage(resp),
    meetingID: str(resp, 'meeting_id'),
    userID: str(resp, 'user_id'),
    authToken: str(resp, 'auth_token'),
    sessionToken: str(resp, 'session_token'),
    guestStatus: str(resp, 'guestStatus'),
    url: requiredStr(resp, 'url', 'join'),
  };
}

function toImage(node: unknown): RecordingImage {
  const attrs = child(node, '$');
  const image: RecordingImage = { url: textOf(node) ?? '' };
  const width = optStr(attrs, 'width');
  if (width !== undefined) image.width = width;
  const height = optStr(attrs, 'height');
  if (height !== undefined) image.height = height;
  const alt = optStr(attrs, 'alt');
  if (alt !== undefined) image.alt = alt;
  return image;
}

function toFormat(node: unknown): RecordingFormat {
  const format: RecordingFormat = {
    type: str(node, 'type'),
    url: str(node, 'url'),
    processingTime: num(node, 'processingTime'),
    length: num(node, 'length'),
  };
  const preview = child(node, 'preview');
  if (preview !== undefined) format.preview = listOf(child(preview, 'images'), 'image').map(toImage);
  return format;
}

function toRecording(node: unknown): Recording {
  const parentId = optStr(child(node, 'breakout'), 'parentId');
  return {
    ...(parentId === undefined ? {} : { parentId }),
    recordID: str(node, 'recordID'),
    meetingID: str(node, 'meetingID'),
    internalMeetingID: str(node, 'internalMeetingID'),
    name: str(node, 'name'),
    isBreakout: bool(node, 'isBreakout'),
    published: bool(node, 'published'),
    state: str(node, 'state'),
    startTime: num(node, 'startTime'),
    endTime: num(node, 'endTime'),
    participants: num(node, 'participants'),
    metadata: recordOf(child(node, 'metadata')),
    // Older servers emit one <playback> per format; newer ones merge them (§3.7).
    formats: listOf(node, 'playback').flatMap((playback) => listOf(playback, 'format').map(toFormat)),
  };
}

/** getRecordings; noRecordings (`<recordings></recordings>`) gives []. */
export function toRecordings(resp: XmlNode): Recording[] {
  return listOf(child(resp, 'recordings'), 'recording').map(toRecording);
}

export function toApiVersion(resp: XmlNode): ApiVersion {
  const version: ApiVersion = {
    version: str(resp, 'version'),
    apiVersion: str(resp, 'apiVersion'),
    bbbVersion: str(resp, 'bbbVersion'),
  };
  for (const key of ['apiUrl', 'graphqlWebsocketUrl', 'graphqlApiUrl'] as const) {
    const value = optStr(resp, key);
    if (value !== undefined) version[key] = value;
  }
  return version;
}
