// One pino logger per process, JSON lines on stdout; each role logs through a child that names
// it (`role`), so the lines of `amphi all` say which role wrote them. Data goes in fields
// (`server`, `tenant`, `err`, counts), not in the message.
import pino, { type Logger } from 'pino';
import { logError } from '../api/http/log-error.js';
import type { Settings } from '../config/settings.js';

export type { Logger } from 'pino';

export type Role = 'gateway' | 'poller' | 'scaler';

/** A message, or fields then a message: the part of a pino logger the roles use, so tests can pass a fake. */
export interface LogFn {
  (msg: string): void;
  (fields: object, msg: string): void;
}

export interface Log {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * Fields that may hold a secret should one ever reach a log call (a record spread into the
 * fields, a request's headers): server and tenant secrets, passwords, tokens, checksums, and
 * request URLs (their query carries the checksum). The code logs none of them; this is the
 * net under it. Up to three levels deep (`server.record.secret`); a wildcard also stands for an
 * array index (`servers[0].secret` matches `*.*.secret`), the syntax of pino's redaction
 * (@pinojs/redact, several wildcards per path).
 */
export const REDACTED_KEYS = ['secret', 'secrets', 'password', 'moderatorPW', 'attendeePW', 'token', 'checksum', 'authorization', 'jwtSecret', 'url', 'headers'];

export const REDACTED_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

/** The process logger, at `level`, writing each line to `write` (stdout by default). */
export function createLogger(level: Settings['LOG_LEVEL'], write: (line: string) => void = (line) => void process.stdout.write(line)): Logger {
  return pino({ name: 'amphi', level, serializers: { err: logError }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write });
}

/** The child logger of one role. */
export function roleLog(root: Logger, role: Role): Logger {
  return root.child({ role });
}
