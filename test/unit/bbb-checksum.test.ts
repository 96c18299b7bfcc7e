import { describe, expect, it } from 'vitest';
import {
  ALL_ALGORITHMS,
  algorithmForChecksum,
  computeChecksum,
  signQuery,
  sortedFormQuery,
  stripChecksum,
  verifyChecksum,
} from '../../src/bbb/checksum.js';

// Vectors from bbb-api.md §1.1 (the BBB docs' example, verified against the server's algorithm).
const SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';
const QUERY = 'name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444';
const VECTORS = {
  sha1: '1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17',
  sha256: 'da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e',
  sha384: '891ac633df39d0a1b4f8d597f3e190833216c4b29c4fb51ea3ca72757eeb958d6e7b49a845cf29f5c6019c7d29d029d1',
  sha512:
    'de73ad61d11a5c801b68d4bd6ec5248546085cefb0b25c85f3c46249ea93a3a4b120f92c0a8a58d7512cb77821884951a3b01245f3435dbbef49fff3cc3988b4',
} as const;

const check = (rawQuery: string, checksum: string | undefined, extra: Partial<Parameters<typeof verifyChecksum>[0]> = {}) =>
  verifyChecksum({ callName: 'create', rawQuery, checksum, secrets: [SECRET], allowed: ALL_ALGORITHMS, ...extra });

describe('checksum', () => {
  for (const algorithm of ALL_ALGORITHMS) {
    it(`computes the reference ${algorithm} vector and picks ${algorithm} by length`, () => {
      expect(computeChecksum('create', QUERY, SECRET, algorithm)).toBe(VECTORS[algorithm]);
      expect(algorithmForChecksum(VECTORS[algorithm])).toBe(algorithm);
      expect(check(`${QUERY}&checksum=${VECTORS[algorithm]}`, VECTORS[algorithm])).toEqual({
        ok: true,
        secret: SECRET,
        algorithm,
      });
    });
  }

  it('computes the empty-query getMeetings vector', () => {
    expect(computeChecksum('getMeetings', '', SECRET)).toBe('2027baa7771026e9e93392f55031535d1444c41f');
  });

  it('accepts the checksum first, in the middle or last, and the PHP leading &', () => {
    const cs = VECTORS.sha1;
    const [first, ...rest] = QUERY.split('&');
    expect(check(`checksum=${cs}&${QUERY}`, cs).ok).toBe(true);
    expect(check(`${first}&checksum=${cs}&${rest.join('&')}`, cs).ok).toBe(true);
    const gm = computeChecksum('getMeetings', '', SECRET);
    expect(verifyChecksum({ callName: 'getMeetings', rawQuery: `&checksum=${gm}`, checksum: gm, secrets: [SECRET], allowed: ALL_ALGORITHMS }).ok).toBe(true);
  });

  it('hashes the raw query as received: unusual order and encoding', () => {
    const raw = 'moderatorPW=33%2034&name=Caf%C3%A9+%26+Cr%C3%A8me&meetingID=a%2Fb~c*d';
    const cs = computeChecksum('create', raw, SECRET, 'sha256');
    expect(check(`${raw}&checksum=${cs}`, cs).ok).toBe(true);
    // The same parameters re-encoded differently are a different string, so they must fail.
    const reencoded = 'moderatorPW=33+34&name=Caf%C3%A9+%26+Cr%C3%A8me&meetingID=a%2Fb~c*d';
    expect(check(`${reencoded}&checksum=${cs}`, cs)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('compares case-insensitively', () => {
    const cs = VECTORS.sha256.toUpperCase();
    expect(check(`${QUERY}&checksum=${cs}`, cs).ok).toBe(true);
  });

  it('refuses a missing checksum, a wrong one, an odd length and a disallowed algorithm', () => {
    expect(check(QUERY, undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(check(`${QUERY}&checksum=`, '')).toEqual({ ok: false, reason: 'missing' });
    const wrong = VECTORS.sha1.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(check(`${QUERY}&checksum=${wrong}`, wrong).ok).toBe(false);
    const odd = VECTORS.sha1.slice(0, 39);
    expect(check(`${QUERY}&checksum=${odd}`, odd).ok).toBe(false);
    const only256 = check(`${QUERY}&checksum=${VECTORS.sha1}`, VECTORS.sha1, { allowed: ['sha256'] });
    expect(only256.ok).toBe(false);
  });

  it('accepts any of several secrets (rotation) and says which one signed', () => {
    const cs = computeChecksum('create', QUERY, 'new-secret');
    const verdict = check(`${QUERY}&checksum=${cs}`, cs, { secrets: ['old-secret', 'new-secret'] });
    expect(verdict).toEqual({ ok: true, secret: 'new-secret', algorithm: 'sha1' });
  });

  it('accepts an all-in-body POST signed over the empty query or over the sorted re-encoded body', () => {
    const body = new Map([
      ['name', 'Test Meeting*'],
      ['meetingID', 'abc~123'],
    ]);
    expect(sortedFormQuery(body)).toBe('meetingID=abc%7E123&name=Test+Meeting*');
    const overEmpty = computeChecksum('create', '', SECRET);
    expect(check('', overEmpty, { bodyParams: body }).ok).toBe(true);
    const overSorted = computeChecksum('create', sortedFormQuery(body), SECRET);
    expect(check('', overSorted, { bodyParams: body }).ok).toBe(true);
    // With parameters in the query the body form is not an alternative.
    expect(check(`x=1&checksum=${overSorted}`, overSorted, { bodyParams: body }).ok).toBe(false);
  });

  it('signs queries so that the verifier accepts them', () => {
    const signed = signQuery('join', 'meetingID=m&fullName=A+B', SECRET, 'sha512');
    const cs = signed.split('checksum=')[1]!;
    expect(verifyChecksum({ callName: 'join', rawQuery: signed, checksum: cs, secrets: [SECRET], allowed: ALL_ALGORITHMS }).ok).toBe(true);
    expect(signQuery('getMeetings', '', SECRET)).toBe('checksum=2027baa7771026e9e93392f55031535d1444c41f');
    expect(stripChecksum('checksum=abc', 'abc')).toBe('');
  });
});
