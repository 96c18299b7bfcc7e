// A create may announce when its meeting will run, so the scaler has servers ready before it
// starts (scaler/forecast/announced.ts): meta_amphi-start, and meta_amphi-end or BBB's own
// `duration`. Parsed and checked here, once, for the gateway. Pure.
//
// Formats (both parameters):
// - an RFC 3339 date-time WITH its offset: `2026-12-02T08:00:00+01:00`, `2026-12-02T07:00Z`,
//   seconds and fractions optional (`T08:00`, `T08:00:00.250`), offsets from -14:00 to +14:00
//   (`+0100` also). A date-time without an offset is refused: whose 8:00 would it be? A '+'
//   sent unencoded in a query arrives as a space (form decoding): `…T08:00:00 01:00` is read
//   as `+01:00`, the only thing it can mean;
// - or whole epoch seconds (`1796194800`), ASCII digits only.
// Nothing else: no week dates, no ordinal dates, no epoch milliseconds, no signs, no
// non-ASCII digits.
//
// Bounds: the start not more than ANNOUNCE_MAX_AHEAD_MS (14 days) ahead nor more than
// ANNOUNCE_MAX_PAST_MS (1 day) behind the gateway's clock; the end after the start and at
// most ANNOUNCE_MAX_SPAN_MS (24 h) after it. Without meta_amphi-end, a positive `duration`
// (minutes; BBB ends the meeting then) gives the end, held to 24 h rather than refused: BBB
// accepts any duration, and refusing a meeting for it would not be BBB. Without either, the
// announcement has no end and the scaler assumes its announced.defaultDuration.
//
// Every value the caller gives wrongly is refused (FAILED invalidAnnouncement), as a bad size
// hint is: a create that meant to announce and silently did not would surprise more.
export const START_META = 'meta_amphi-start';
export const END_META = 'meta_amphi-end';

export const ANNOUNCE_MAX_AHEAD_MS = 14 * 24 * 3_600_000;
export const ANNOUNCE_MAX_PAST_MS = 24 * 3_600_000;
export const ANNOUNCE_MAX_SPAN_MS = 24 * 3_600_000;

export interface AnnouncedTimes {
  startsAt: number;
  /** Absent: the create gave no end and no duration. */
  endsAt?: number;
}

export type AnnouncementRead =
  | { ok: true; announced?: AnnouncedTimes }
  | { ok: false; error: 'invalidAnnouncement'; message: string };

const ISO = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:(Z)|([+ -])([0-9]{2}):?([0-9]{2}))$/;
const EPOCH = /^[0-9]{1,12}$/;
const MAX_TEXT = 64;

/** A date-time or epoch seconds as ms since the epoch; a string saying what is wrong otherwise. */
export function parseAnnouncedTime(text: string): number | string {
  if (text.length > MAX_TEXT) return 'too long';
  if (EPOCH.test(text)) {
    if (text.length >= 13) return 'epoch seconds expected (this looks like milliseconds)';
    return Number(text) * 1000;
  }
  const m = ISO.exec(text);
  if (!m) return 'expected an ISO 8601 date-time with an offset (2026-12-02T08:00:00+01:00, or …Z) or epoch seconds';
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 'not a valid date-time';
  const local = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  // Date.UTC rolls 31 February over into March: a real calendar date reads back the same.
  const back = new Date(local);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return 'not a calendar date';
  if (m[8] !== undefined) return local;
  const oh = Number(m[10]);
  const om = Number(m[11]);
  if (om > 59 || oh * 60 + om > 14 * 60) return 'offset out of range (-14:00 to +14:00)';
  const sign = m[9] === '-' ? -1 : 1;
  return local - sign * (oh * 60 + om) * 60_000;
}

/**
 * The times a create announces, checked against `now`; `{ ok: true }` without `announced`
 * when it names no start. A meta_ name is matched in any letter case (BBB stores them
 * lower-cased); two spellings of one name with different values are refused as ambiguous.
 */
export function readAnnouncement(params: ReadonlyMap<string, string>, now: number): AnnouncementRead {
  const start = single(params, START_META);
  if (typeof start === 'object') return start;
  const end = single(params, END_META);
  if (typeof end === 'object') return end;
  const startText = start?.trim();
  const endText = end?.trim();
  if (startText === undefined || startText === '') {
    if (endText !== undefined && endText !== '') return refuse(`${END_META} needs ${START_META}`);
    return { ok: true };
  }
  const startsAt = parseAnnouncedTime(startText);
  if (typeof startsAt === 'string') return refuse(`${START_META}: ${startsAt} (got "${clip(startText)}")`);
  if (startsAt > now + ANNOUNCE_MAX_AHEAD_MS) return refuse(`${START_META} is more than 14 days ahead (got "${clip(startText)}")`);
  if (startsAt < now - ANNOUNCE_MAX_PAST_MS) return refuse(`${START_META} is more than a day in the past (got "${clip(startText)}")`);
  if (endText !== undefined && endText !== '') {
    const endsAt = parseAnnouncedTime(endText);
    if (typeof endsAt === 'string') return refuse(`${END_META}: ${endsAt} (got "${clip(endText)}")`);
    if (endsAt <= startsAt) return refuse(`${END_META} must be after ${START_META}`);
    if (endsAt - startsAt > ANNOUNCE_MAX_SPAN_MS) return refuse(`${END_META} is more than 24 hours after ${START_META}`);
    return { ok: true, announced: { startsAt, endsAt } };
  }
  // BBB's duration: minutes, 0 or less (or not a number) for none.
  const duration = params.get('duration');
  const minutes = duration !== undefined && /^[0-9]{1,9}$/.test(duration) ? Number(duration) : 0;
  if (minutes > 0) return { ok: true, announced: { startsAt, endsAt: startsAt + Math.min(minutes * 60_000, ANNOUNCE_MAX_SPAN_MS) } };
  return { ok: true, announced: { startsAt } };
}

/** The value of a meta_ parameter in any letter case; a refusal when two spellings disagree. */
function single(params: ReadonlyMap<string, string>, name: string): string | undefined | { ok: false; error: 'invalidAnnouncement'; message: string } {
  let found: string | undefined;
  for (const [key, value] of params) {
    if (key.toLowerCase() !== name) continue;
    if (found !== undefined && found !== value) return { ok: false, error: 'invalidAnnouncement', message: `${name} is given more than once with different values` };
    found = value;
  }
  return found;
}

/** The caller's text in a message: short, printable ASCII. */
function clip(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return shown.replace(/[^\x20-\x7e…]/g, '?');
}

function refuse(message: string): AnnouncementRead {
  return { ok: false, error: 'invalidAnnouncement', message };
}
