import { describe, expect, it } from 'vitest';
import { AnnouncedStoreSource } from '../../scaler/forecast/announced-store.js';
import { DEFAULT_LOAD_WEIGHTS, DEFAULT_SIZE_CLASSES, expectedMeetingLoad, type LoadWeights } from '../../src/placement/load-model.js';
import { parseAnnouncedTime, readAnnouncement } from '../../src/policy/announcement.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-01T12:00:00Z */
const NOW = Date.UTC(2026, 11, 1, 12);

const read = (params: [string, string][], now = NOW) => readAnnouncement(new Map(params), now);

describe('parseAnnouncedTime', () => {
  it('reads date-times with an offset or Z, with or without seconds and fractions', () => {
    const at = Date.UTC(2026, 11, 2, 7);
    expect(parseAnnouncedTime('2026-12-02T08:00:00+01:00')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T08:00+01:00')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T08:00:00+0100')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T07:00:00Z')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T02:30:00-04:30')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T07:00:00.250Z')).toBe(at + 250);
    expect(parseAnnouncedTime('2026-12-02T07:00:00.123456789Z')).toBe(at + 123);
    // An unencoded '+' in a query arrives as a space.
    expect(parseAnnouncedTime('2026-12-02T08:00:00 01:00')).toBe(at);
    expect(parseAnnouncedTime('2026-12-02T21:00:00+14:00')).toBe(at);
  });

  it('reads whole epoch seconds', () => {
    expect(parseAnnouncedTime('1796194800')).toBe(1_796_194_800_000);
    expect(parseAnnouncedTime('0')).toBe(0);
  });

  it('refuses everything else', () => {
    for (const bad of [
      '',
      'tomorrow',
      '2026-12-02T08:00:00', // no offset: whose 8:00?
      '2026-12-02 08:00:00Z',
      '2026-12-02t08:00:00z',
      '2026-12-02',
      '2026-W49-3T08:00Z',
      '2026-336T08:00Z',
      '2026-02-30T08:00:00Z',
      '2026-13-01T08:00:00Z',
      '2026-12-02T24:00:00Z',
      '2026-12-02T08:60:00Z',
      '2026-12-02T08:00:60Z',
      '2026-12-02T08:00:00+15:00',
      '2026-12-02T08:00:00+01:60',
      '2026-12-02T08:00:00+1',
      '+1796194800',
      '-1796194800',
      '1796194800.5',
      '1796194800000', // milliseconds
      '99999999999999999999999',
      ' 1796194800',
      '١٧٩٦١٩٤٨٠٠', // Arabic-Indic digits
      '１７９６１９４８００', // full-width digits
      '２０２６-12-02T08:00:00Z',
      '2026-12-02T08:00:00Z'.padEnd(100, '0'),
    ]) {
      expect(typeof parseAnnouncedTime(bad), bad).toBe('string');
    }
  });
});

describe('readAnnouncement', () => {
  it('is empty without meta_amphi-start', () => {
    expect(read([['meetingID', 'm']])).toEqual({ ok: true });
    expect(read([['meta_amphi-start', '  ']])).toEqual({ ok: true });
  });

  it('takes the end from meta_amphi-end, else from duration (held to 24 h), else none', () => {
    const start = NOW + DAY;
    expect(read([['meta_amphi-start', '2026-12-02T13:00:00+01:00']])).toEqual({ ok: true, announced: { startsAt: start } });
    expect(read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['meta_amphi-end', '2026-12-02T14:30:00Z'], ['duration', '30']])).toEqual({
      ok: true,
      announced: { startsAt: start, endsAt: start + 2.5 * HOUR },
    });
    expect(read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['duration', '90']])).toEqual({ ok: true, announced: { startsAt: start, endsAt: start + 1.5 * HOUR } });
    expect(read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['duration', '100000']])).toEqual({ ok: true, announced: { startsAt: start, endsAt: start + DAY } });
    for (const none of ['0', '-5', 'abc', ''])
      expect(read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['duration', none]])).toEqual({ ok: true, announced: { startsAt: start } });
  });

  it('matches the names in any letter case', () => {
    expect(read([['META_Amphi-Start', String((NOW + HOUR) / 1000)]])).toEqual({ ok: true, announced: { startsAt: NOW + HOUR } });
  });

  it('refuses a name given twice with different values, not the same value twice', () => {
    const r = read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['meta_AMPHI-start', '2026-12-03T12:00:00Z']]);
    expect(r).toMatchObject({ ok: false, error: 'invalidAnnouncement' });
    expect(read([['meta_amphi-start', '2026-12-02T12:00:00Z'], ['meta_AMPHI-start', '2026-12-02T12:00:00Z']])).toMatchObject({ ok: true });
  });

  it('bounds the start to 14 days ahead and a day behind', () => {
    expect(read([['meta_amphi-start', String((NOW + 14 * DAY) / 1000)]])).toMatchObject({ ok: true });
    expect(read([['meta_amphi-start', String((NOW + 14 * DAY) / 1000 + 1)]])).toMatchObject({ ok: false, message: expect.stringContaining('14 days') });
    expect(read([['meta_amphi-start', String((NOW - DAY) / 1000)]])).toMatchObject({ ok: true });
    expect(read([['meta_amphi-start', String((NOW - DAY) / 1000 - 1)]])).toMatchObject({ ok: false, message: expect.stringContaining('past') });
    expect(read([['meta_amphi-start', '9999999999']])).toMatchObject({ ok: false });
    expect(read([['meta_amphi-start', '1970-01-01T00:00:00Z']])).toMatchObject({ ok: false });
  });

  it('refuses an end not after the start, more than 24 h after it, malformed, or alone', () => {
    const start: [string, string] = ['meta_amphi-start', '2026-12-02T12:00:00Z'];
    expect(read([start, ['meta_amphi-end', '2026-12-02T12:00:00Z']])).toMatchObject({ ok: false, message: expect.stringContaining('after') });
    expect(read([start, ['meta_amphi-end', '2026-12-02T11:00:00Z']])).toMatchObject({ ok: false });
    expect(read([start, ['meta_amphi-end', '2026-12-03T12:00:00Z']])).toMatchObject({ ok: true });
    expect(read([start, ['meta_amphi-end', '2026-12-03T12:00:01Z']])).toMatchObject({ ok: false, message: expect.stringContaining('24 hours') });
    expect(read([start, ['meta_amphi-end', 'soon']])).toMatchObject({ ok: false, message: expect.stringContaining('meta_amphi-end') });
    expect(read([['meta_amphi-end', '2026-12-02T12:00:00Z']])).toMatchObject({ ok: false, message: expect.stringContaining('needs meta_amphi-start') });
  });

  it('keeps what it echoes of a bad value short and printable', () => {
    const r = read([['meta_amphi-start', `<script>${'x'.repeat(500)}\u0000`]]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message.length).toBeLessThan(200);
      expect(r.message).not.toMatch(/[^\x20-\x7e…]/);
    }
  });
});

describe('AnnouncedStoreSource', () => {
  const settings = { weights: DEFAULT_LOAD_WEIGHTS, classes: DEFAULT_SIZE_CLASSES, defaultDurationMs: HOUR };

  it('answers from the copy its last refresh read, over the lookahead', async () => {
    const asked: [number, number][] = [];
    const meetings = [{ startsAt: NOW + 10 * 60_000, endsAt: NOW + HOUR, participants: 30, cameras: 5 }];
    const source = new AnnouncedStoreSource(
      async (from, to) => {
        asked.push([from, to]);
        return meetings;
      },
      settings,
      15 * 60_000,
    );
    expect(source.demand(NOW, NOW + 15 * 60_000).total).toBe(0);
    expect(await source.refresh(NOW)).toBe(1);
    expect(asked).toEqual([[NOW, NOW + 15 * 60_000]]);
    expect(source.refreshedAt).toBe(NOW);
    expect(source.demand(NOW, NOW + 15 * 60_000)).toEqual({ total: expectedMeetingLoad(30, 5), byClass: {}, source: 'announced meetings' });
  });

  it('weighs the meetings with the weights learned from the servers’ CPU once there are some', async () => {
    const meetings = [{ startsAt: NOW, endsAt: NOW + HOUR, participants: 30, cameras: 15 }];
    let learned: LoadWeights | undefined = undefined;
    const source = new AnnouncedStoreSource(async () => meetings, settings, HOUR, async () => learned);
    await source.refresh(NOW);
    expect(source.demand(NOW, NOW + HOUR).total).toBe(expectedMeetingLoad(30, 15));
    learned = { ...DEFAULT_LOAD_WEIGHTS, perStreamDelivered: 1 };
    await source.refresh(NOW + 60_000);
    expect(source.demand(NOW, NOW + HOUR).total).toBe(expectedMeetingLoad(30, 15, learned));
    expect(expectedMeetingLoad(30, 15, learned)).toBeGreaterThan(2 * expectedMeetingLoad(30, 15));
  });

  it('keeps its copy when a refresh fails', async () => {
    let fail = false;
    const source = new AnnouncedStoreSource(
      async () => {
        if (fail) throw new Error('redis down');
        return [{ startsAt: NOW, participants: 10, cameras: 0 }];
      },
      settings,
      HOUR,
    );
    await source.refresh(NOW);
    fail = true;
    await expect(source.refresh(NOW + 60_000)).rejects.toThrow('redis down');
    expect(source.demand(NOW, NOW + HOUR).total).toBe(expectedMeetingLoad(10, 0));
    expect(source.refreshedAt).toBe(NOW);
  });
});
