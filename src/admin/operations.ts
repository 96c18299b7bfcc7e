// The operator verbs, as plain functions over a Store. The /admin HTTP API and the `amphi`
// CLI are two thin fronts over these: validation, checks and refusals live here only.
import { z } from 'zod';
import { BbbClient, BbbClientError } from '../bbb/client.js';
import type { ChecksumAlgorithm } from '../bbb/checksum.js';
import { DEFAULT_SIZE_CLASSES } from '../placement/load-model.js';
import type { Policy } from '../policy/schema.js';
import { tenantSizeEstimate, type TenantSizeEstimate } from '../policy/size-estimate.js';
import { sizeClassOf } from '../state/codec.js';
import { DEFAULT_TENANT } from '../state/namespace.js';
import { UnknownServerError } from '../state/server-registry.js';
import type { Store } from '../state/store.js';
import { TENANT_NAME } from '../state/tenant-registry.js';
import type { MeetingRecord, ServerHealth, ServerRecord, ServerState, TenantRecord } from '../state/types.js';
import { ConflictError, InvalidInputError, NotFoundError, ServerCheckError } from './errors.js';

export const SERVER_STATES = ['enabled', 'cordoned', 'disabled'] as const;
export const DEFAULT_SIZE = 'standard';
export const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Tags end up in Scalelite-style `meta_server-tag` lists, where `,` and `!` are syntax. */
export const TAG = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Tenant secrets sign every client URL (join links end up in browser histories): short ones are brute-forced offline. */
export const MIN_TENANT_SECRET_LENGTH = 16;
export const MAX_TENANT_SECRETS = 16;

// ---------------------------------------------------------------------------------------------
// Validation

function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw InvalidInputError.fromZod(result.error);
  return result.data as z.output<S>;
}

/**
 * An http(s) URL without credentials, query or fragment, trailing slashes dropped. A bare host
 * (`https://bbb1.example.org`) gets BBB's API path, the usual slip when pasting a server URL.
 */
const httpUrl = (example: string, defaultPath: string, credentials: string) =>
  z
    .string()
    .trim()
    .url(`must be an http(s) URL such as ${example}`)
    .transform((text, ctx) => {
      const url = new URL(text);
      const problem =
        url.protocol !== 'http:' && url.protocol !== 'https:'
          ? 'must use http or https'
          : url.username || url.password
            ? `must not carry credentials (${credentials})`
            : url.search || url.hash
              ? 'must not have a query or fragment'
              : undefined;
      if (problem) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
        return z.NEVER;
      }
      if (url.pathname === '/' || url.pathname === '') url.pathname = defaultPath;
      return url.toString().replace(/\/+$/, '');
    });

const serverUrl = httpUrl('https://bbb1.example.org/bigbluebutton/api', '/bigbluebutton/api', 'the secret signs every call');
/**
 * The server's node_exporter (`node_cpu_seconds_total`), checked as the API URL is: http(s),
 * no credentials (Amphi sends none: the poller reads it unauthenticated), a bare host gets /metrics.
 */
const metricsUrl = httpUrl('http://bbb1.example.org:9100/metrics', '/metrics', 'they would be kept in Redis and shown');

const noSpaces = (what: string) => z.string().regex(/^\S+$/, `${what} must not be empty or contain spaces`);

const newServerSchema = z
  .object({
    url: serverUrl,
    metricsUrl: metricsUrl.optional(),
    secret: noSpaces('secret'),
    capacity: z.number().int().positive().max(1_000_000).optional(),
    size: z
      .string()
      .refine((s) => Object.hasOwn(DEFAULT_SIZE_CLASSES, s), {
        message: `must be one of ${Object.keys(DEFAULT_SIZE_CLASSES).join(', ')}`,
      })
      .optional(),
    tags: z.array(z.string().regex(TAG, 'tags are 1-64 of A-Z a-z 0-9 _ . : -')).max(32).default([]),
    id: z.string().regex(SERVER_ID, `must match ${SERVER_ID.source}`).optional(),
    state: z.enum(SERVER_STATES).default('enabled'),
    check: z.boolean().default(true),
  })
  .strict()
  .refine((s) => s.capacity === undefined || s.size === undefined, {
    message: 'give either capacity or size, not both',
    path: ['capacity'],
  });

export type NewServerInput = z.input<typeof newServerSchema>;

const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    'must be a bare host name (no scheme, port or path), e.g. bbb.academie.example',
  );

const tenantName = z.string().regex(TENANT_NAME, `tenant names match ${TENANT_NAME.source}`);
const tenantSecret = noSpaces('secret').pipe(
  z.string().min(MIN_TENANT_SECRET_LENGTH, `secrets need at least ${MIN_TENANT_SECRET_LENGTH} characters`),
);

const newTenantSchema = z
  .object({
    name: tenantName,
    secrets: z
      .array(tenantSecret)
      .min(1, 'give at least one secret')
      .max(MAX_TENANT_SECRETS)
      .refine((list) => new Set(list).size === list.length, 'secrets must be distinct'),
    hostnames: z
      .array(hostname)
      .max(64)
      .default([])
      .refine((list) => new Set(list).size === list.length, 'host names must be distinct'),
    settings: z.record(z.unknown()).default({}),
  })
  .strict();

export type NewTenantInput = z.input<typeof newTenantSchema>;

// ---------------------------------------------------------------------------------------------
// Views (what both fronts show; never a secret in full)

export interface ServerRow {
  id: string;
  url: string;
  /** Its node_exporter, when it has one. */
  metricsUrl?: string;
  /** CPU utilization (0..1) its node_exporter last reported, while fresh. */
  cpu?: number;
  state: ServerState;
  health: ServerHealth;
  /** Meetings placed on the server (as the directory knows them). */
  meetings: number;
  /** As last polled. */
  participants: number;
  /** Measured load, load units. */
  load: number;
  capacity: number;
  /** The size class it was added as, or 'custom' (a capacity of no class). */
  sizeClass: string;
  /** load / capacity. */
  utilization: number;
  tags: string[];
  /** '' when added by hand; else the scaler's provider that created it. */
  managedBy: string;
  secret: string;
  addedAt: number;
  /** When `state` last changed. */
  stateSince: number;
  polledAt: number;
  lastError: string;
}

export interface TenantRow {
  name: string;
  /** Masked: enough to tell them apart during a rotation, not to use them. */
  secrets: string[];
  hostnames: string[];
  settings: Record<string, unknown>;
}

export interface MeetingRow {
  tenant: string;
  meetingID: string;
  upstreamID: string;
  name: string;
  server: string;
  status: string;
  createdAt: number;
  participants: number;
  videos: number;
  reserved: number;
  measuredLoad: number;
}

/** `****` plus the last 4 characters of a long secret; nothing at all of a short one. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `****${secret.slice(-4)}` : '****';
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function serverRow(s: ServerRecord, meetings: number): ServerRow {
  return {
    id: s.id,
    url: s.url,
    ...(s.metricsUrl !== undefined && { metricsUrl: s.metricsUrl }),
    ...(s.cpu !== undefined && { cpu: round(s.cpu, 3) }),
    state: s.state,
    health: s.health,
    meetings,
    participants: s.participants,
    load: round(s.measuredLoad, 2),
    capacity: s.capacity,
    sizeClass: s.sizeClass,
    utilization: s.capacity > 0 ? round(s.measuredLoad / s.capacity, 3) : 0,
    tags: s.tags,
    managedBy: s.managedBy,
    secret: maskSecret(s.secret),
    addedAt: s.addedAt,
    stateSince: s.stateSince,
    polledAt: s.polledAt,
    lastError: s.lastError,
  };
}

function tenantRow(t: TenantRecord): TenantRow {
  return { name: t.name, secrets: t.secrets.map(maskSecret), hostnames: t.hostnames, settings: t.settings };
}

function meetingRow(m: MeetingRecord): MeetingRow {
  return {
    tenant: m.tenant,
    meetingID: m.meetingID,
    upstreamID: m.upstreamID,
    name: m.info?.meetingName ?? '',
    server: m.server,
    status: m.status,
    createdAt: m.createdAt,
    participants: m.info?.participantCount ?? 0,
    videos: m.info?.videoCount ?? 0,
    reserved: round(m.reserved, 2),
    measuredLoad: round(m.measuredLoad, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

export interface ServerCheckOptions {
  /** Bound on the check call; default 5000 ms. */
  timeoutMs?: number;
  /** Sign the check as the gateway signs its upstream calls (AMPHI_UPSTREAM_ALGORITHM). Default sha256. */
  algorithm?: ChecksumAlgorithm;
}

/** Signs a getMeetings to the server; resolves to its meeting count or throws ServerCheckError. */
export async function checkServer(url: string, secret: string, opts: ServerCheckOptions = {}): Promise<number> {
  const algorithm = opts.algorithm ?? 'sha256';
  const client = new BbbClient({ apiUrl: url, secret, algorithm, timeoutMs: opts.timeoutMs ?? 5000 });
  try {
    return (await client.getMeetings()).length;
  } catch (err) {
    throw new ServerCheckError(`${url} did not pass the check (a signed getMeetings): ${checkFailure(err, algorithm)}`);
  }
}

function checkFailure(err: unknown, algorithm: ChecksumAlgorithm): string {
  if (!(err instanceof BbbClientError)) return err instanceof Error ? err.message : String(err);
  const notApi = 'is the URL the API base, ending in /bigbluebutton/api?';
  switch (err.kind) {
    case 'failed':
      return err.messageKey === 'checksumError'
        ? `the server rejected the checksum: the secret is wrong, or the server does not accept ${algorithm} checksums`
        : `the server answered FAILED (${err.messageKey ?? '?'}: ${err.bbbMessage ?? ''})`;
    case 'http':
      return `HTTP ${err.status ?? '?'}; ${notApi}`;
    case 'malformed':
      return `the answer is not BBB XML; ${notApi}`;
    case 'refused':
      return 'connection refused';
    case 'timeout':
      return 'no answer in time';
    default:
      return err.message;
  }
}

function unknownServer(id: string): NotFoundError {
  return new NotFoundError(`no server with id ${id}`);
}

async function requireServer(store: Store, id: string): Promise<ServerRecord> {
  const server = await store.servers.get(id);
  if (!server) throw unknownServer(id);
  return server;
}

/** Runs a registry call, turning its unknown-server error into NotFound. */
async function onServer<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UnknownServerError) throw unknownServer(id);
    throw err;
  }
}

/**
 * Adds a BBB server. Unless `check: false`, a signed getMeetings must succeed first, and the
 * server then starts online (placement may use it at once); unchecked, it starts offline until
 * the poller has seen it answer.
 */
export async function addServer(store: Store, input: unknown, opts: ServerCheckOptions = {}): Promise<ServerRow> {
  const s = parse(newServerSchema, input);
  const existing = await store.servers.list();
  if (s.id !== undefined && existing.some((e) => e.id === s.id)) throw new ConflictError(`a server with id ${s.id} already exists`);
  const sameUrl = existing.find((e) => e.url === s.url);
  if (sameUrl) throw new ConflictError(`${s.url} is already registered as server ${sameUrl.id}`);

  if (s.check) await checkServer(s.url, s.secret, opts);
  // A capacity given raw is of the class with that capacity, if any: 'custom' otherwise.
  const sizeClass = s.capacity === undefined ? (s.size ?? DEFAULT_SIZE) : sizeClassOf(s.capacity);
  const record = await store.servers.add({
    url: s.url,
    secret: s.secret,
    capacity: s.capacity ?? DEFAULT_SIZE_CLASSES[sizeClass]!,
    sizeClass,
    managedBy: '',
    tags: s.tags,
    state: s.state,
    health: s.check ? 'online' : 'offline',
    ...(s.metricsUrl !== undefined && { metricsUrl: s.metricsUrl }),
    ...(s.id !== undefined && { id: s.id }),
  });
  return serverRow(record, 0);
}

export async function listServers(store: Store): Promise<ServerRow[]> {
  const servers = await store.servers.list();
  const counts = await Promise.all(servers.map((s) => store.meetings.countOn(s.id)));
  return servers.map((s, i) => serverRow(s, counts[i] ?? 0));
}

export async function getServer(store: Store, id: string): Promise<ServerRow> {
  const server = await requireServer(store, id);
  return serverRow(server, await store.meetings.countOn(id));
}

/** enabled: takes new meetings; cordoned: keeps its meetings, takes no new ones; disabled: out of service. */
export async function setServerState(store: Store, id: string, state: ServerState): Promise<ServerRow> {
  const target = parse(z.enum(SERVER_STATES), state);
  const server = await onServer(id, () => store.servers.setState(id, target));
  return serverRow(server, await store.meetings.countOn(id));
}

export interface RemovedServer {
  id: string;
  /** Meeting placements dropped with it (only with `force`). */
  forgottenMeetings: number;
}

/** Removes a server that runs no meeting; `force` drops its meeting placements with it. */
export async function removeServer(store: Store, id: string, opts: { force?: boolean } = {}): Promise<RemovedServer> {
  await requireServer(store, id);
  const meetings = await store.meetings.countOn(id);
  if (meetings > 0 && !opts.force) {
    throw new ConflictError(
      `server ${id} still has ${meetings} meeting(s): cordon it and wait until they end, panic it to move them elsewhere, or force the removal`,
    );
  }
  await onServer(id, () => store.servers.remove(id));
  return { id, forgottenMeetings: meetings };
}

export interface PanickedServer {
  server: ServerRow;
  /** Placements forgotten: each meeting's next create is placed on another server. */
  forgottenMeetings: number;
}

/**
 * Scalelite's `panic`: the server is disabled first (so nothing new lands on it), then every
 * meeting placed on it is forgotten, so the next create of each is placed elsewhere.
 */
export async function panicServer(store: Store, id: string): Promise<PanickedServer> {
  await onServer(id, () => store.servers.setState(id, 'disabled'));
  const placed = (await store.meetings.list()).filter((m) => m.server === id);
  let forgotten = 0;
  for (const m of placed) if (await store.meetings.forget(m.tenant, m.meetingID, id)) forgotten++;
  return { server: await getServer(store, id), forgottenMeetings: forgotten };
}

// ---------------------------------------------------------------------------------------------
// Tenants

function unknownTenant(name: string): NotFoundError {
  return new NotFoundError(`no tenant named ${name}`);
}

async function requireTenant(store: Store, name: string): Promise<TenantRecord> {
  const tenant = await store.tenants.get(parse(tenantName, name));
  if (!tenant) throw unknownTenant(name);
  return tenant;
}

/** Host names select the tenant of a request, so two tenants can never share one. */
async function assertHostsFree(store: Store, name: string, hostnames: readonly string[]): Promise<void> {
  for (const other of await store.tenants.list()) {
    if (other.name === name) continue;
    const taken = hostnames.find((h) => other.hostnames.includes(h));
    if (taken) throw new ConflictError(`host name ${taken} already belongs to tenant ${other.name}`);
  }
}

export async function addTenant(store: Store, input: unknown): Promise<TenantRow> {
  const t = parse(newTenantSchema, input);
  if (await store.tenants.get(t.name)) throw new ConflictError(`tenant ${t.name} already exists`);
  await assertHostsFree(store, t.name, t.hostnames);
  return tenantRow(await store.tenants.put(t));
}

export async function listTenants(store: Store): Promise<TenantRow[]> {
  return (await store.tenants.list()).map(tenantRow);
}

export async function getTenant(store: Store, name: string): Promise<TenantRow> {
  return tenantRow(await requireTenant(store, name));
}

/**
 * Removes a tenant that has no meeting. There is deliberately no force: the poller files the
 * meetings of an unknown tenant prefix under the default tenant, which would expose them.
 */
export async function removeTenant(store: Store, name: string): Promise<{ name: string }> {
  await requireTenant(store, name);
  const meetings = (await store.meetings.list(name)).length;
  if (meetings > 0) {
    throw new ConflictError(`tenant ${name} still has ${meetings} meeting(s): end them first (or panic the servers that hold stale ones)`);
  }
  await store.tenants.remove(name);
  return { name };
}

/** Adds a secret for a rotation: clients move to it, then the old one is removed. */
export async function addTenantSecret(store: Store, name: string, secret: unknown): Promise<TenantRow> {
  const tenant = await requireTenant(store, name);
  const value = parse(tenantSecret, secret);
  if (tenant.secrets.includes(value)) throw new ConflictError(`tenant ${name} already has this secret`);
  if (tenant.secrets.length >= MAX_TENANT_SECRETS) throw new ConflictError(`tenant ${name} already has ${MAX_TENANT_SECRETS} secrets; remove one first`);
  return tenantRow(await store.tenants.put({ ...tenant, secrets: [...tenant.secrets, value] }));
}

export async function removeTenantSecret(store: Store, name: string, secret: unknown): Promise<TenantRow> {
  const tenant = await requireTenant(store, name);
  const value = parse(noSpaces('secret'), secret);
  if (!tenant.secrets.includes(value)) throw new NotFoundError(`tenant ${name} has no such secret`);
  if (tenant.secrets.length === 1) throw new ConflictError(`this is the last secret of tenant ${name}; add its replacement first`);
  return tenantRow(await store.tenants.put({ ...tenant, secrets: tenant.secrets.filter((s) => s !== value) }));
}

export interface TenantSizeEstimateRow extends TenantSizeEstimate {
  tenant: string;
}

/**
 * What a create of the tenant with no profile and no hint reserves now: the estimate from its
 * past such meetings (policy/size-estimate.ts), with what it is made of. The default tenant
 * needs no record (AMPHI_SECRET serves it).
 */
export async function getTenantSizeEstimate(store: Store, name: string, policy: Policy): Promise<TenantSizeEstimateRow> {
  const tenant = parse(tenantName, name);
  if (tenant !== DEFAULT_TENANT) await requireTenant(store, tenant);
  return { tenant, ...tenantSizeEstimate(policy, tenant, await store.meetings.sizeSamples(tenant)) };
}

// ---------------------------------------------------------------------------------------------
// Meetings

export async function listMeetings(store: Store, tenant?: string): Promise<MeetingRow[]> {
  const name = tenant === undefined ? undefined : parse(tenantName, tenant);
  return (await store.meetings.list(name)).map(meetingRow);
}
