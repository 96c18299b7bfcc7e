// Small HTTP helpers for the simulator's tests: plain node:http with no keep-alive agent, so a
// server going down or hanging is observed exactly as a fresh client would see it.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { computeChecksum } from '../../src/bbb/checksum.js';
import type { ChecksumAlgorithm } from '../../src/bbb/checksum.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Abort after this long (the promise rejects with code 'ETIMEDOUT'). */
  timeoutMs?: number;
}

export function http(url: string, opts: HttpOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    if (opts.timeoutMs !== undefined) {
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    }
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function json<T = Record<string, unknown>>(a: HttpAnswer): T {
  return JSON.parse(a.body) as T;
}

export async function postJson(url: string, value: unknown): Promise<HttpAnswer> {
  return http(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
}

/** The text of the first `<name>` element (enough for BBB's flat answers). */
export function xmlValue(body: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body);
  return m?.[1];
}

export interface Endpoint {
  apiUrl: string;
  secret: string;
}

/** A signed URL for a call: params in order, encoded like bigbluebutton-js (querystring). */
export function signedUrl(
  server: Endpoint,
  call: string,
  params: Record<string, string> = {},
  algorithm: ChecksumAlgorithm = 'sha1',
  secret: string = server.secret,
): string {
  const query = new URLSearchParams(params).toString();
  const checksum = computeChecksum(call, query, secret, algorithm);
  return `${server.apiUrl}/${call}?${query === '' ? '' : `${query}&`}checksum=${checksum}`;
}

export function bbbGet(
  server: Endpoint,
  call: string,
  params: Record<string, string> = {},
  algorithm: ChecksumAlgorithm = 'sha1',
): Promise<HttpAnswer> {
  return http(signedUrl(server, call, params, algorithm));
}
