// Join link tokens: `<linkId>.<expiresAt base36>.<mac>`. The MAC (HMAC-SHA256 under a key
// derived from AMPHI_JWT_SECRET, base64url, first 22 characters = 132 bits) covers the link ID
// and its expiry, so a forged, altered or expired token is refused before any Redis read: a
// stranger guessing tokens costs the store nothing. Revocation and use counts live in Redis.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** 22 base64url characters: 128 random bits (RoomLink.id). */
export const LINK_ID = /^[A-Za-z0-9_-]{22}$/;
const MAC_LENGTH = 22;
/** Longest token verify looks at: id (22) + dots (2) + expiry (≤ 11 base36) + MAC (22), with room to spare. */
const MAX_TOKEN_LENGTH = 80;
const EXPIRY = /^[0-9a-z]{1,11}$/;

/** The link-signing key: its own derivation, so a link MAC is never a valid JWT signature and vice versa. */
export function linkKey(jwtSecret: string): Buffer {
  if (jwtSecret === '') throw new Error('join links need AMPHI_JWT_SECRET');
  return createHmac('sha256', jwtSecret).update('amphi join links').digest();
}

function mac(key: Buffer, linkId: string, expiresAt: number): string {
  return createHmac('sha256', key).update(`${linkId}.${expiresAt}`).digest('base64url').slice(0, MAC_LENGTH);
}

export function signLinkToken(key: Buffer, linkId: string, expiresAt: number): string {
  if (!LINK_ID.test(linkId)) throw new Error('a link ID is 22 base64url characters');
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) throw new Error('a link expiry is a positive epoch ms');
  return `${linkId}.${expiresAt.toString(36)}.${mac(key, linkId, expiresAt)}`;
}

export type LinkTokenCheck = { ok: true; linkId: string; expiresAt: number } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * The link a token names, when its MAC is right (compared in constant time) and it has not
 * expired at `now`. Malformed and forged tokens are both 'invalid': the caller learns nothing more.
 */
export function verifyLinkToken(key: Buffer, token: string, now: number): LinkTokenCheck {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'invalid' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'invalid' };
  const [linkId, expiry, given] = parts as [string, string, string];
  if (!LINK_ID.test(linkId) || !EXPIRY.test(expiry) || given.length !== MAC_LENGTH) return { ok: false, reason: 'invalid' };
  const expiresAt = parseInt(expiry, 36);
  // One spelling per expiry (no leading zeros): a token is exactly what signLinkToken made.
  if (!Number.isSafeInteger(expiresAt) || expiresAt.toString(36) !== expiry) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(key, linkId, expiresAt));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { ok: false, reason: 'invalid' };
  if (expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, linkId, expiresAt };
}

/** A link's URL under the gateway's public base. */
export function linkUrl(publicBase: string, token: string): string {
  return `${publicBase.replace(/\/+$/, '')}/j/${token}`;
}
