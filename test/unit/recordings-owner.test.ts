import { describe, expect, it } from 'vitest';
import { ownRecordings } from '../../src/api/bbb/calls/recordings.js';
import type { Recording } from '../../src/bbb/types.js';

const rec = (recordID: string, meetingID: string, extra: Partial<Recording> = {}): Recording => ({
  recordID,
  meetingID,
  internalMeetingID: recordID,
  name: meetingID,
  isBreakout: false,
  published: true,
  state: 'published',
  startTime: 0,
  endTime: 0,
  participants: 1,
  metadata: {},
  formats: [],
  ...extra,
});

describe('recording ownership', () => {
  const tenants = new Set(['acme']);
  // BBB names breakout rooms `<sha1>-<time>`: no prefix, so by ID alone the default tenant's.
  const server = [
    rec('p-1', 'acme~maths'),
    rec('b-1', '0123456789abcdef0123456789abcdef01234567-1700000000000', { isBreakout: true, parentId: 'p-1' }),
    rec('d-1', 'history'),
    rec('b-2', '89abcdef0123456789abcdef0123456789abcdef-1700000000000', { isBreakout: true, parentId: 'd-1' }),
    rec('b-3', 'fedcba9876543210fedcba9876543210fedcba98-1700000000000', { isBreakout: true, parentId: 'gone' }),
    rec('b-4', 'fedcba9876543210fedcba9876543210fedcba97-1700000000000', { isBreakout: true }),
  ];

  it('gives a breakout recording to the owner of its parent, and to no one without one', () => {
    expect(ownRecordings('acme', tenants, server).map((r) => r.recordID)).toEqual(['p-1', 'b-1']);
    expect(ownRecordings('default', tenants, server).map((r) => r.recordID)).toEqual(['d-1', 'b-2']);
  });

  it('answers meeting IDs in the tenant namespace', () => {
    expect(ownRecordings('acme', tenants, server)[0]!.meetingID).toBe('maths');
  });
});
