// iCalendar invitations (rooms/ics.ts): CRLF, folding at 75 octets without splitting a UTF-8
// character, TEXT escaping, dates in UTC.
import { describe, expect, it } from 'vitest';
import { buildInvite, escapeText, foldLine, icsDateTime } from '../../src/rooms/ics.js';

const unfold = (text: string) => text.replace(/\r\n[ \t]/g, '');

describe('iCalendar invitation', () => {
  it('escapes backslash, semicolon, comma and every newline in TEXT', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf\rg')).toBe('a\\\\b\\;c\\,d\\ne\\nf\\ng');
    expect(escapeText('tab\there\u0000\u0007')).toBe('tab\there');
    expect(escapeText('déjà « vu » \u{1F600}')).toBe('déjà « vu » \u{1F600}');
  });

  it('folds at 75 octets, continuation lines starting with one space', () => {
    const line = `DESCRIPTION:${'x'.repeat(200)}`;
    const folded = foldLine(line);
    const parts = folded.split('\r\n');
    expect(parts.length).toBe(3);
    expect(Buffer.byteLength(parts[0]!)).toBe(75);
    for (const p of parts.slice(1)) {
      expect(p.startsWith(' ')).toBe(true);
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(75);
    }
    expect(unfold(folded)).toBe(line);
    expect(foldLine('SHORT:x')).toBe('SHORT:x');
    expect(foldLine(`A:${'y'.repeat(73)}`)).toBe(`A:${'y'.repeat(73)}`);
    expect(foldLine(`A:${'y'.repeat(74)}`).split('\r\n')).toHaveLength(2);
  });

  it('never splits a multi-byte character, whatever its size and position', () => {
    for (const char of ['é', '€', '\u{1F393}']) {
      for (let pad = 0; pad < 4; pad++) {
        const line = `SUMMARY:${'a'.repeat(pad)}${char.repeat(60)}`;
        const folded = foldLine(line);
        for (const part of folded.split('\r\n')) {
          expect(Buffer.byteLength(part)).toBeLessThanOrEqual(75);
          // Each piece is valid UTF-8 on its own: decoding and re-encoding gives the same bytes.
          const bytes = Buffer.from(part, 'utf8');
          expect(Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)).toBe(true);
          expect(part).not.toContain('\uFFFD');
        }
        expect(unfold(folded)).toBe(line);
      }
    }
  });

  it('writes a VEVENT with a stable UID, UTC dates, CRLF everywhere', () => {
    const start = Date.UTC(2026, 11, 2, 7, 0, 0);
    const ics = buildInvite({
      uid: 'rABC@amphi',
      start,
      end: start + 3_600_000,
      stamp: Date.UTC(2026, 11, 1, 12, 30, 15, 999),
      summary: 'Maths; 4e, B',
      description: 'Line 1\nLine 2',
      url: 'https://amphi.example.org/j/abc.def.ghi',
    });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = unfold(ics).split('\r\n');
    expect(lines.slice(0, 6)).toEqual(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Amphi//Rooms//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH', 'BEGIN:VEVENT']);
    expect(lines).toContain('UID:rABC@amphi');
    expect(lines).toContain('DTSTAMP:20261201T123015Z');
    expect(lines).toContain('DTSTART:20261202T070000Z');
    expect(lines).toContain('DTEND:20261202T080000Z');
    expect(lines).toContain('SUMMARY:Maths\\; 4e\\, B');
    expect(lines).toContain('DESCRIPTION:Line 1\\nLine 2');
    expect(lines).toContain('URL:https://amphi.example.org/j/abc.def.ghi');
    expect(lines.slice(-3)).toEqual(['END:VEVENT', 'END:VCALENDAR', '']);
    expect(icsDateTime(0)).toBe('19700101T000000Z');
  });

  it('cannot be made to start a new property through a URL', () => {
    const ics = buildInvite({ uid: 'u', start: 0, stamp: 0, summary: 's', url: 'https://x/\r\nATTENDEE:evil' });
    expect(unfold(ics).split('\r\n').filter((l) => l.startsWith('ATTENDEE'))).toEqual([]);
    expect(ics).not.toContain('DTEND');
  });
});
