// What an error becomes in a log line. pino's own serializer copies every field of an error,
// and ioredis puts the failed command's arguments on its errors (`command`): a Redis refusing a
// write would log a tenant's secrets or a meeting's passwords.
import { stdSerializers } from 'pino';

const NEVER_LOGGED = ['command', 'args', 'options'];

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

export function logError(err: unknown): LoggedError {
  // `err: message` (a string) would otherwise be spread into one field per character.
  if (!(err instanceof Error)) return { type: typeof err, message: String(err), stack: '' };
  const out: LoggedError = { ...stdSerializers.err(err) };
  for (const field of NEVER_LOGGED) delete out[field];
  return out;
}
