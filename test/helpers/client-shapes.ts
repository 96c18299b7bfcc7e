// How the official client libraries other than bigbluebutton-js build their requests
// (bbb-api.md §1.3), reproduced byte for byte, for tests against the gateway.
import { createHash } from 'node:crypto';

/** bigbluebutton-api-php 3.0: RFC 3986 encoding (space → %20), declaration order, SHA-256, `?&checksum=` when empty. */
export function phpUrl(base: string, secret: string, call: string, params: [string, string][]): string {
  const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`).join('&');
  const checksum = createHash('sha256').update(call + query + secret).digest('hex');
  return `${base}/bigbluebutton/api/${call}?${query}&checksum=${checksum}`;
}

/** bigbluebutton-api-ruby (Greenlight): params sorted by key, URI.encode_www_form_component (space → +), SHA-1. */
export function rubyUrl(base: string, secret: string, call: string, params: [string, string][]): string {
  const query = [...params]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`)
    .join('&');
  const checksum = createHash('sha1').update(call + query + secret).digest('hex');
  return `${base}/bigbluebutton/api/${call}?${query}&checksum=${checksum}`;
}
