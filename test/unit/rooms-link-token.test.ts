// Join link tokens (rooms/link-token.ts): what signLinkToken makes verifies; anything forged,
// altered, malformed or expired does not.
import { describe, expect, it } from 'vitest';
import { linkKey, linkUrl, signLinkToken, verifyLinkToken } from '../../src/rooms/link-token.js';
import { newLinkId } from '../../src/rooms/ids.js';

const key = linkKey('link-token-test-secret-0123456789');
const NOW = 1_800_000_000_000;

describe('join link tokens', () => {
  const id = newLinkId();
  const expiresAt = NOW + 86_400_000;
  const token = signLinkToken(key, id, expiresAt);

  it('round-trips: link ID and expiry come back', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(verifyLinkToken(key, token, NOW)).toEqual({ ok: true, linkId: id, expiresAt });
    expect(linkUrl('https://amphi.example.org/', token)).toBe(`https://amphi.example.org/j/${token}`);
  });

  it('refuses an expired token as expired, at and after its expiry', () => {
    expect(verifyLinkToken(key, token, expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyLinkToken(key, token, expiresAt + 1)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyLinkToken(key, token, expiresAt - 1).ok).toBe(true);
  });

  it('refuses a token signed with another key (another AMPHI_JWT_SECRET)', () => {
    const other = signLinkToken(linkKey('another-secret-for-links-0123'), id, expiresAt);
    expect(verifyLinkToken(key, other, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a token whose expiry was pushed back, or whose ID or MAC was changed', () => {
    const [linkId, expiry, mac] = token.split('.') as [string, string, string];
    const later = (expiresAt + 365 * 86_400_000).toString(36);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const tampered = [
      `${linkId}.${later}.${mac}`,
      `${flip(linkId, 0)}.${expiry}.${mac}`,
      `${linkId}.${expiry}.${flip(mac, 21)}`,
      `${linkId}.${expiry}.${flip(mac, 0)}`,
      // Same number, another spelling: one token per link.
      `${linkId}.0${expiry}.${mac}`,
      `${linkId}.${expiry.toUpperCase()}.${mac}`,
    ];
    for (const t of tampered) expect(verifyLinkToken(key, t, NOW), t).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses malformed tokens without throwing', () => {
    const [linkId, expiry, mac] = token.split('.') as [string, string, string];
    const bad = [
      '',
      '.',
      '..',
      `${linkId}.${expiry}`,
      `${linkId}.${expiry}.${mac}.extra`,
      `${linkId}.${expiry}.${mac.slice(0, 21)}`,
      `${linkId}.${expiry}.${mac}x`,
      `${linkId.slice(1)}.${expiry}.${mac}`,
      `${linkId}.-1.${mac}`,
      `${linkId}.zzzzzzzzzzzz.${mac}`,
      `${linkId}.${expiry}.${mac.slice(0, 20)}éé`,
      `${linkId}.${expiry}.${'\u0000'.repeat(22)}`,
      'x'.repeat(10_000),
      `${linkId}.${expiry}.${mac}`.replace('.', '%2E'),
    ];
    for (const t of bad) expect(verifyLinkToken(key, t, NOW), JSON.stringify(t.slice(0, 60))).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyLinkToken(key, 42 as unknown as string, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('never signs what it would not verify', () => {
    expect(() => signLinkToken(key, 'short', expiresAt)).toThrow();
    expect(() => signLinkToken(key, id, 0)).toThrow();
    expect(() => signLinkToken(key, id, 1.5)).toThrow();
    expect(() => linkKey('')).toThrow();
  });

  it('derives a key of its own from the JWT secret (a link MAC is no JWT signature)', () => {
    expect(linkKey('s-0123456789abcdef').equals(Buffer.from('s-0123456789abcdef'))).toBe(false);
    expect(linkKey('s-0123456789abcdef').equals(linkKey('s-0123456789abcdef'))).toBe(true);
  });
});
