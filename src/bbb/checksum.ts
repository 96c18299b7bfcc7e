import { createHash, timingSafeEqual } from 'node:crypto';
import { percentEncode } from './request.js';

export type ChecksumAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const ALL_ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha1', 'sha256', 'sha384', 'sha512'];

// BBB picks the hash by the checksum's hex length; nothing else in the request names it.
const ALGORITHM_BY_LENGTH: ReadonlyMap<number, ChecksumAlgorithm> = new Map([
  [40, 'sha1'],
  [64, 'sha256'],
  [96, 'sha384'],
  [128, 'sha512'],
]);

export function algorithmForChecksum(checksum: string): ChecksumAlgorithm | undefined {
  return ALGORITHM_BY_LENGTH.get(checksum.length);
}

export function computeChecksum(
  callName: string,
  query: string,
  secret: string,
  algorithm: ChecksumAlgorithm = 'sha1',
): string {
  return createHash(algorithm).update(callName + query + secret).digest('hex');
}

/**
 * Removes the checksum from a raw query string the way bbb-web does: three plain string
 * replacements, so the checksum may stand first, in the middle or last, and a leading `&`
 * (the PHP client's `?&checksum=`) reduces to an empty query.
 */
export function stripChecksum(rawQuery: string, checksum: string): string {
  return rawQuery
    .replace(`&checksum=${checksum}`, '')
    .replace(`checksum=${checksum}&`, '')
    .replace(`checksum=${checksum}`, '');
}

/** Builds `query&checksum=…` (or `checksum=…` for an empty query) for a call to a BBB server. */
export function signQuery(
  callName: string,
  query: string,
  secret: string,
  algorithm: ChecksumAlgorithm = 'sha1',
): string {
  const checksum = computeChecksum(callName, query, secret, algorithm);
  return query === '' ? `checksum=${checksum}` : `${query}&checksum=${checksum}`;
}

/**
 * The query bbb-web 2.5–2.7 rebuilds for a POST whose parameters are all in the body: keys
 * sorted, checksum skipped, values encoded like Java's URLEncoder (space → `+`, `*` kept).
 */
export function sortedFormQuery(params: ReadonlyMap<string, string> | Record<string, string>): string {
  const entries = params instanceof Map ? [...params.entries()] : Object.entries(params);
  return entries
    .filter(([key]) => key !== 'checksum')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${javaUrlEncode(key)}=${javaUrlEncode(value)}`)
    .join('&');
}

function javaUrlEncode(value: string): string {
  // encodeURIComponent keeps !'()~ and encodes *; Java's URLEncoder does the opposite.
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, percentEncode)
    .replace(/%2A/g, '*')
    .replace(/%20/g, '+');
}

export interface ChecksumCheck {
  callName: string;
  /** The query string exactly as received, without the leading `?`. */
  rawQuery: string;
  /** The checksum parameter's value (decoded); undefined or '' when absent. */
  checksum: string | undefined;
  /** Every secret that may have signed the request (rotation: old and new). */
  secrets: readonly string[];
  allowed: readonly ChecksumAlgorithm[];
  /** Parameters of a POST form body, when the query carried none of them. */
  bodyParams?: ReadonlyMap<string, string>;
}

export type ChecksumVerdict =
  | { ok: true; secret: string; algorithm: ChecksumAlgorithm }
  | { ok: false; reason: 'missing' | 'mismatch' };

/** Verifies a request's checksum against any of the secrets, in constant time per comparison. */
export function verifyChecksum(check: ChecksumCheck): ChecksumVerdict {
  const { checksum } = check;
  if (checksum === undefined || checksum === '') return { ok: false, reason: 'missing' };
  const algorithm = algorithmForChecksum(checksum);
  if (algorithm === undefined || !check.allowed.includes(algorithm)) return { ok: false, reason: 'mismatch' };
  const given = Buffer.from(checksum.toLowerCase(), 'latin1');
  const queries = [stripChecksum(check.rawQuery, checksum)];
  if (queries[0] === '' && check.bodyParams && check.bodyParams.size > 0) {
    queries.push(sortedFormQuery(check.bodyParams));
  }
  for (const secret of check.secrets) {
    for (const query of queries) {
      const expected = Buffer.from(computeChecksum(check.callName, query, secret, algorithm), 'latin1');
      if (expected.length === given.length && timingSafeEqual(expected, given)) {
        return { ok: true, secret, algorithm };
      }
    }
  }
  return { ok: false, reason: 'mismatch' };
}
