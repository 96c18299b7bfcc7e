// An iCalendar (RFC 5545) invitation to a room: one VEVENT in a VCALENDAR, what calendar
// clients import. Pure. Lines end in CRLF and are folded at 75 octets (never inside a UTF-8
// character); TEXT values escape backslash, semicolon, comma and newlines (§3.3.11).

export interface InviteEvent {
  /** Stable across downloads, so a client updates the event rather than adding another. */
  uid: string;
  /** Epoch ms. */
  start: number;
  end?: number;
  /** When the invitation was made (DTSTAMP), epoch ms. */
  stamp: number;
  /** When the room last changed (LAST-MODIFIED), epoch ms. */
  modified?: number;
  summary: string;
  description?: string;
  url?: string;
}

const MAX_LINE_OCTETS = 75;

/** UTC date-time form: 20261202T080000Z. */
export function icsDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A TEXT value: \ ; , escaped, every newline as \n, other control characters dropped (not allowed in TEXT). */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ''); // eslint-disable-line no-control-regex
}

/** A content line folded at 75 octets: CRLF and a space before each continuation, whole characters only. */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  // The continuation's leading space is one of its 75 octets.
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = MAX_LINE_OCTETS - 1;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** A URI value: no escaping, but nothing that could end the line or the property. */
function uri(value: string): string {
  return value.replace(/[\u0000-\u0020\u007f]/g, (c) => encodeURIComponent(c)); // eslint-disable-line no-control-regex
}

export function buildInvite(e: InviteEvent): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Amphi//Rooms//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${escapeText(e.uid)}`,
    `DTSTAMP:${icsDateTime(e.stamp)}`,
    `DTSTART:${icsDateTime(e.start)}`,
    ...(e.end === undefined ? [] : [`DTEND:${icsDateTime(e.end)}`]),
    ...(e.modified === undefined ? [] : [`LAST-MODIFIED:${icsDateTime(e.modified)}`]),
    `SUMMARY:${escapeText(e.summary)}`,
    ...(e.description === undefined ? [] : [`DESCRIPTION:${escapeText(e.description)}`]),
    ...(e.url === undefined ? [] : [`URL:${uri(e.url)}`]),
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
