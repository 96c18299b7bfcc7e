// The failures of an operator verb, typed so that both fronts map them the same way: the HTTP
// API to problem details (RFC 9457), the CLI to an exit code and one line on stderr.
import type { ZodError } from 'zod';

export interface Issue {
  /** Dotted path of the offending field ('' for the whole input). */
  path: string;
  message: string;
}

export abstract class AdminError extends Error {
  abstract readonly status: number;
  /** Short, stable slug; the problem type is `urn:amphi:problem:<slug>`. */
  abstract readonly slug: string;
  abstract readonly title: string;
}

/** The input is malformed: a missing or bad field, an unknown key, a bad name. */
export class InvalidInputError extends AdminError {
  override readonly name = 'InvalidInputError';
  readonly status = 400;
  readonly slug = 'invalid-input';
  readonly title = 'Invalid input';
  constructor(
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
  }

  static fromZod(err: ZodError): InvalidInputError {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return new InvalidInputError(text, issues);
  }
}

export class NotFoundError extends AdminError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly slug = 'not-found';
  readonly title = 'Not found';
}

/** The request is well-formed but clashes with the current state (duplicate, still in use). */
export class ConflictError extends AdminError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly slug = 'conflict';
  readonly title = 'Conflict';
}

/** A server being added did not answer a signed getMeetings correctly. */
export class ServerCheckError extends AdminError {
  override readonly name = 'ServerCheckError';
  readonly status = 422;
  readonly slug = 'server-check-failed';
  readonly title = 'Server check failed';
}
