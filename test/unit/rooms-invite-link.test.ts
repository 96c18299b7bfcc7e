// Which viewer link an invitation carries (api/v1/links.ts invitationLink): one that covers the
// event when there is one or one can be made, else the longest-lived usable one; never a new
// link per download.
import { describe, expect, it } from 'vitest';
import { invitationLink, invitationLinkLifetime } from '../../src/api/v1/links.js';
import { DEFAULT_LINK_TTL_MS, MAX_LINK_TTL_MS, type RoomLink } from '../../src/rooms/types.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
let n = 0;
const link = (expiresIn: number, over: Partial<RoomLink> = {}): RoomLink => ({
  id: `l${n++}`,
  room: 'r',
  role: 'viewer',
  createdAt: NOW - DAY,
  expiresAt: NOW + expiresIn,
  uses: 0,
  revoked: false,
  createdBy: 'alice',
  ...over,
});

describe('invitation link', () => {
  it('reuses a usable viewer link that covers the event and a day after it', () => {
    const covering = link(10 * DAY);
    expect(invitationLink([link(60 * DAY, { role: 'moderator' }), covering], NOW + 5 * DAY, NOW)).toBe(covering);
  });

  it('asks for a new link when none covers and one can, or when none is usable', () => {
    expect(invitationLink([link(30 * DAY)], NOW + 40 * DAY, NOW)).toBeUndefined();
    expect(invitationLink([], NOW + DAY, NOW)).toBeUndefined();
    const unusable = [link(10 * DAY, { revoked: true }), link(10 * DAY, { maxUses: 2, uses: 2 }), link(-1), link(10 * DAY, { role: 'moderator' })];
    expect(invitationLink(unusable, NOW + DAY, NOW)).toBeUndefined();
  });

  it('reuses the longest-lived usable viewer link for an event beyond any link’s lifetime', () => {
    const longest = link(MAX_LINK_TTL_MS);
    expect(invitationLink([link(30 * DAY), longest, link(100 * DAY)], NOW + 400 * DAY, NOW)).toBe(longest);
    // Even a short one: a download never mints a link while one is usable.
    const short = link(DAY);
    expect(invitationLink([short], NOW + 400 * DAY, NOW)).toBe(short);
  });

  it('makes a link that lasts a day past the event, within the default and the longest lifetime', () => {
    expect(invitationLinkLifetime(NOW + DAY, NOW)).toBe(DEFAULT_LINK_TTL_MS);
    expect(invitationLinkLifetime(NOW + 40 * DAY, NOW)).toBe(41 * DAY);
    expect(invitationLinkLifetime(NOW + 400 * DAY, NOW)).toBe(MAX_LINK_TTL_MS);
    // What it makes covers the event whenever a link can: the next download reuses it.
    const made = link(invitationLinkLifetime(NOW + 40 * DAY, NOW));
    expect(invitationLink([made], NOW + 40 * DAY, NOW)).toBe(made);
  });
});
