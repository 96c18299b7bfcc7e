// What an error becomes in a log line. pino's own serializer copies every field of an error,
// and ioredis puts the failed command's arguments on its errors (`command`): a Redis refusing a
// write would log a tenant's secrets or a meeting's passwords.
//
// A message or stack can carry a secret too: an HTTP client's error names the URL it failed on,
// whose query holds a BBB checksum (or a password). Those values are replaced, in the error and
// in its causes (redactText).
import { stdSerializers } from 'pino';
import { redactText } from '../../log/redact-text.js';

const NEVER_LOGGED = ['command', 'args', 'options'];

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

export function logError(err: unknown): LoggedError {
  // `err: message` (a string) would otherwise be spread into one field per character.
  if (!(err instanceof Error)) return { type: typeof err, message: redactText(String(err)), stack: '' };
  return scrub({ ...stdSerializers.err(err) }, 0) as LoggedError;
}

/** How deep causes and nested fields are followed (a cause chain, an AggregateError's errors). */
const MAX_DEPTH = 6;

/** The serialized error without NEVER_LOGGED fields and with its texts redacted, causes and aggregated errors included. */
function scrub(out: Record<string, unknown>, depth: number): Record<string, unknown> {
  for (const field of NEVER_LOGGED) delete out[field];
  for (const [field, value] of Object.entries(out)) out[field] = scrubValue(value, depth + 1);
  return out;
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((v: unknown) => scrubValue(v, depth + 1));
  if (value instanceof Error) return scrub({ ...stdSerializers.err(value) }, depth);
  return scrub({ ...(value as Record<string, unknown>) }, depth);
}
