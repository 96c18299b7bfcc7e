// The scaler's provider layer: one interface over whatever makes BBB servers exist (a cloud API,
// an operator's automation, the simulator, or nothing at all). The scaler's jobs only ever
// call these five methods; what a size class means to a provider (a Scaleway commercial type,
// a Terraform variable) is the provider's configuration.
//
// Idempotency: `create` takes a key (the BullMQ job's idempotency key). Calling it again with
// the same key, in the same process or in another scaler replica, answers the server the first
// call asked for instead of booting a second one: every provider finds it again by the key it
// carries in its tags (`amphi-key`), so the key → server map is rebuilt from the provider
// itself after a restart, never kept only in memory.
//
// Secrets: a ProvisionedServer may carry the BBB secret. Providers never log; their errors
// (ProviderError) name the provider, the call and the HTTP status, never a token, a signature,
// a BBB secret or a response body. Log a server with `describeServer`, never as is.
import { BbbClient } from '../../src/bbb/client.js';

/** What a provider says of one server. */
export type ProviderServerStatus = 'booting' | 'running' | 'failed' | 'gone';

export const KEY_TAG = 'amphi-key';
export const SIZE_TAG = 'amphi-size';
/** Marks the servers the scaler created, so list() never returns anything else. */
export const MANAGED_TAG = 'amphi-managed';

export interface ProvisionedServer {
  /** The provider's own id (a Scaleway server UUID, the operator's id, `sim-3`). */
  id: string;
  /** The scaler's size class (scaler/config.ts `classes`), not the provider's machine type. */
  sizeClass: string;
  status: ProviderServerStatus;
  /** The idempotency key it was created with, when it was created by the scaler. */
  idempotencyKey?: string;
  /** The BBB API base (`https://…/bigbluebutton/api`), once known (the server may still boot). */
  apiUrl?: string;
  /** Its node exporter's metrics (CPU the poller reads, src/poller/node-cpu.ts), when the provider knows it. */
  metricsUrl?: string;
  /** The BBB secret, once known. Never log it: see describeServer. */
  secret?: string;
  /** The provider's tags, as key → value (a tag without a value maps to ''). */
  tags: Record<string, string>;
}

export interface CreateRequest {
  sizeClass: string;
  /** Same key, same server: see the module header. Letters, digits and `._:-`, at most 100. */
  idempotencyKey: string;
  /** A name for humans (the cloud console); default derived from the class and key. */
  name?: string;
  /** Extra tags; the provider adds amphi-managed, amphi-key and amphi-size. */
  tags?: Record<string, string>;
}

export interface CloudProvider {
  readonly name: string;
  /** A provider that cannot add servers (static): the scaler asks it for none. */
  readonly fixedPool?: boolean;
  /** Asks for a server (idempotent by key); answers at once, usually while it still boots. */
  create(req: CreateRequest): Promise<ProvisionedServer>;
  /** Removes a server; a server already gone is not an error. */
  delete(id: string): Promise<void>;
  /** The servers the provider manages (cloud ones: those tagged amphi-managed), whatever their status. */
  list(): Promise<ProvisionedServer[]>;
  /** One server as it is now, with its BBB URL and secret once known; undefined once gone. */
  get(id: string): Promise<ProvisionedServer | undefined>;
  status(id: string): Promise<ProviderServerStatus>;
}

/** Why a provider call failed, without any secret. `retryable`: worth a BullMQ retry. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly provider: string;
  readonly retryable: boolean;
  readonly status?: number;

  constructor(provider: string, message: string, opts: { retryable: boolean; status?: number; cause?: unknown }) {
    super(`${provider} provider: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.provider = provider;
    this.retryable = opts.retryable;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

const KEY = /^[A-Za-z0-9._:-]{1,100}$/;

/** Throws unless the key can travel in a tag and a tag filter (no comma, no space, no `=`). */
export function checkIdempotencyKey(provider: string, key: string): void {
  if (!KEY.test(key)) {
    throw new ProviderError(provider, 'idempotency key must be 1 to 100 letters, digits or . _ : -', { retryable: false });
  }
}

/** The tags every provider puts on a server it creates. */
export function scalerTags(req: CreateRequest): Record<string, string> {
  return { ...req.tags, [MANAGED_TAG]: '', [KEY_TAG]: req.idempotencyKey, [SIZE_TAG]: req.sizeClass };
}

/** `k=v` strings (Scaleway's flat tags) ↔ a record; a tag without `=` maps to ''. */
export function tagsToList(tags: Readonly<Record<string, string>>): string[] {
  return Object.entries(tags).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
}

export function tagsFromList(list: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of list) {
    const i = t.indexOf('=');
    if (i < 0) tags[t] = '';
    else tags[t.slice(0, i)] = t.slice(i + 1);
  }
  return tags;
}

/** What a log line may say of a server: everything but its secret. */
export function describeServer(s: ProvisionedServer): Omit<ProvisionedServer, 'secret'> & { secret?: '[redacted]' } {
  const { secret, ...rest } = s;
  return secret === undefined ? rest : { ...rest, secret: '[redacted]' };
}

/**
 * Whether a new server's BBB API answers a signed getMeetings with its secret (the scaler's
 * "wait until its BBB API answers" step). False until the URL and secret are known.
 */
export async function bbbApiAnswers(server: Pick<ProvisionedServer, 'apiUrl' | 'secret'>, timeoutMs = 3000): Promise<boolean> {
  if (!server.apiUrl || !server.secret) return false;
  try {
    await new BbbClient({ apiUrl: server.apiUrl, secret: server.secret, timeoutMs }).getMeetings();
    return true;
  } catch {
    return false;
  }
}
