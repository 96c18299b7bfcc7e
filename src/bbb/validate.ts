import { BBB_ERRORS } from './errors.js';
import type { BbbMessage } from './types.js';

// The parameter rules bbb-web applies before acting on a call (bbb-api.md §3, §4), shared by
// the gateway (which must refuse what a BBB server would refuse) and the simulator.

const between = (v: string, min: number, max: number): boolean => v.length >= min && v.length <= max;

/** MeetingIDConstraint: present, 2–256 characters, no comma. */
export function checkMeetingId(meetingID: string | undefined): BbbMessage | undefined {
  if (meetingID === undefined) return BBB_ERRORS.missingParamMeetingID;
  if (!between(meetingID, 2, 256)) return BBB_ERRORS.meetingIdSize;
  if (meetingID.includes(',')) return BBB_ERRORS.meetingIdComma;
  return undefined;
}

/** create: meeting ID, name (2–256) and optional passwords (2–64), in bbb-web's order. */
export function checkCreateParams(params: ReadonlyMap<string, string>): BbbMessage | undefined {
  const idError = checkMeetingId(params.get('meetingID'));
  if (idError) return idError;
  const name = params.get('name');
  if (name === undefined) return BBB_ERRORS.meetingNameMissing;
  if (!between(name, 2, 256)) return BBB_ERRORS.meetingNameSize;
  for (const key of ['attendeePW', 'moderatorPW']) {
    const pw = params.get(key);
    if (pw !== undefined && !between(pw, 2, 64)) return BBB_ERRORS.invalidPasswordLength;
  }
  const voiceBridge = params.get('voiceBridge');
  if (voiceBridge !== undefined && voiceBridge !== '' && !/^-?\d+$/.test(voiceBridge)) return BBB_ERRORS.voiceBridgeNotIntegral;
  return undefined;
}

/**
 * join: an unknown or ended meeting wins over every other violation (Java HashMap order puts
 * meetingForciblyEnded first), then an empty name.
 */
export function checkJoinParams(params: ReadonlyMap<string, string>, meetingKnown: boolean): BbbMessage | undefined {
  if (!meetingKnown) return BBB_ERRORS.meetingForciblyEnded;
  const fullName = params.get('fullName');
  if (fullName === undefined || fullName.trim() === '') return BBB_ERRORS.missingParamFullName;
  return undefined;
}

const META_NAME = /^meta_[a-zA-Z][a-zA-Z0-9-]*$/;

/** create's meta_* parameters as BBB stores them: names lower-cased, without the prefix. */
export function metadataOf(params: ReadonlyMap<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of params) if (META_NAME.test(key)) metadata[key.slice(5).toLowerCase()] = value;
  return metadata;
}

/** Only the string `true` (any case) is true, as Java's Boolean.parseBoolean. */
export function parseBoolean(value: string | undefined, fallback = false): boolean {
  return value === undefined ? fallback : value.toLowerCase() === 'true';
}

/** join's `redirect`: true unless given non-empty and not "true" (bbb-web skips an empty value). */
export function joinRedirects(params: ReadonlyMap<string, string>): boolean {
  const value = params.get('redirect');
  return value === undefined || value === '' || value.toLowerCase() === 'true';
}
