// JSON log lines in pino's shape (level, time, pid, hostname, name, msg), for the roles that run
// without fastify's logger (poller, scaler): their lines sit beside the gateway's in one pipeline.
import { hostname } from 'node:os';
import type { Settings } from '../config/settings.js';

// pino's level numbers.
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

export type LineLevel = 'debug' | 'info' | 'warn' | 'error';

/** Writes one line per call at or above LOG_LEVEL; `fields` go beside the standard ones. */
export type JsonLines = (at: LineLevel, msg: string, fields?: Record<string, unknown>) => void;

export function jsonLines(name: string, level: Settings['LOG_LEVEL'], write: (line: string) => void): JsonLines {
  const min = LEVELS[level];
  const host = hostname();
  return (at, msg, fields = {}) => {
    if (LEVELS[at] < min) return;
    write(`${JSON.stringify({ level: LEVELS[at], time: Date.now(), pid: process.pid, hostname: host, name, msg, ...fields })}\n`);
  };
}
