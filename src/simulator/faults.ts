// Fault injection vocabulary, shared by a server, the cluster and their control APIs.
import type { SimResponse } from './sim-response.js';
import { xmlResponse } from './sim-response.js';

/**
 * - none: normal.
 * - down: the port is closed (connection refused); recovery listens on the same port again.
 * - slow: every BBB/client answer is delayed by `latencyMs`.
 * - error500: HTTP 500 with an HTML page, like a proxy in front of a dead bbb-web.
 * - malformed: HTTP 200 with XML cut in the middle (the request was processed).
 * - hang: the request is read and never answered; sockets are destroyed on recovery.
 */
export const FAULT_MODES = ['none', 'down', 'slow', 'error500', 'malformed', 'hang'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  mode: FaultMode;
  /** Added latency for `slow`. */
  latencyMs: number;
}

export const NO_FAULT: Readonly<Fault> = { mode: 'none', latencyMs: 0 };
export const DEFAULT_SLOW_MS = 2000;

export function isFaultMode(v: unknown): v is FaultMode {
  return typeof v === 'string' && (FAULT_MODES as readonly string[]).includes(v);
}

/** A fault from a control API body `{mode, latencyMs?}`, or the reason it is invalid. */
export function parseFault(body: unknown): Fault | string {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object {mode, latencyMs?}';
  const { mode, latencyMs } = body as { mode?: unknown; latencyMs?: unknown };
  if (!isFaultMode(mode)) return `mode must be one of ${FAULT_MODES.join(', ')}`;
  if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0)) {
    return 'latencyMs must be a non-negative number';
  }
  return { mode, latencyMs: latencyMs ?? (mode === 'slow' ? DEFAULT_SLOW_MS : 0) };
}

export const ERROR_500: SimResponse = {
  status: 500,
  headers: { 'Content-Type': 'text/html;charset=utf-8' },
  body: '<html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1></body></html>',
};

/** The answer cut in half, always HTTP 200 XML: what a parser chokes on. */
export function malform(response: SimResponse): SimResponse {
  const body = response.body === '' ? '<response>\n<returncode>SUCCESS</returncode>\n<messageKey>' : response.body;
  return xmlResponse(body.slice(0, Math.max(1, Math.floor(body.length / 2))));
}
