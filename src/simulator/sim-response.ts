// The answer a simulator handler produces; sim-server.ts writes it to the socket. Keeping
// handlers free of node:http makes them testable and lets faults rewrite an answer.

import { percentEncode } from '../bbb/request.js';

export interface SimResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** bbb-web's headers on every XML answer (bbb-api.md §0). */
export const XML_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/xml;charset=utf-8',
  'Cache-Control': 'no-cache',
};

const JSON_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-cache',
};

export const xmlResponse = (body: string): SimResponse => ({ status: 200, headers: XML_HEADERS, body });

export const jsonResponse = (status: number, value: unknown): SimResponse => ({
  status,
  headers: JSON_HEADERS,
  body: JSON.stringify(value),
});

// A header value must be ASCII: a caller's non-ASCII logoutURL is sent percent-encoded.
export const redirectResponse = (location: string): SimResponse => ({
  status: 302,
  headers: { Location: location.replace(/[^\x21-\x7e]/gu, percentEncode), 'Cache-Control': 'no-cache' },
  body: '',
});

export const textResponse = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): SimResponse => ({
  status,
  headers: { 'Content-Type': contentType },
  body,
});

export const notAllowed = (): SimResponse => jsonResponse(405, { error: 'method not allowed' });

/** The control APIs' GET /metrics, in Prometheus' text format. */
export const metricsResponse = (method: string, metrics: () => string): SimResponse =>
  method === 'GET' ? textResponse(200, metrics(), 'text/plain; version=0.0.4; charset=utf-8') : notAllowed();

/** A control API's state answer lists the users unless the query says `users=false` (or 0). */
export const wantsUsers = (rawQuery: string): boolean => !/(^|&)users=(false|0)(&|$)/.test(rawQuery);

/** A control request's JSON body: {} when empty, undefined when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
