import type { MeetingInfo } from '../bbb/types.js';
import { DEFAULT_SIZE_CLASSES } from '../placement/load-model.js';
import type { MeetingRecord, ServerRecord, TenantRecord } from './types.js';

// Redis hashes hold strings; these turn them back into typed records.

const num = (v: string | undefined, fallback = 0): number => {
  const n = Number(v);
  return v === undefined || v === '' || Number.isNaN(n) ? fallback : n;
};

function json<T>(v: string | undefined, fallback: T): T {
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/** The size class of a capacity given without one: the default class of that capacity, else 'custom'. */
export function sizeClassOf(capacity: number): string {
  return Object.entries(DEFAULT_SIZE_CLASSES).find(([, units]) => units === capacity)?.[0] ?? 'custom';
}

export function decodeServer(id: string, h: Record<string, string>): ServerRecord | undefined {
  if (h.url === undefined) return undefined;
  return {
    id,
    url: h.url,
    secret: h.secret ?? '',
    capacity: num(h.capacity),
    // Servers added before these fields existed: classed by capacity, added by hand, in their
    // state since they were added.
    sizeClass: h.sizeClass || sizeClassOf(num(h.capacity)),
    managedBy: h.managedBy ?? '',
    tags: json<string[]>(h.tags, []),
    state: h.state === 'cordoned' || h.state === 'disabled' ? h.state : 'enabled',
    stateSince: num(h.stateSince, num(h.addedAt)),
    health: h.health === 'online' ? 'online' : 'offline',
    addedAt: num(h.addedAt),
    polledAt: num(h.polledAt),
    meetings: num(h.meetings),
    participants: num(h.participants),
    voice: num(h.voice),
    videos: num(h.videos),
    streamsDelivered: num(h.streamsDelivered),
    measuredLoad: num(h.measuredLoad),
    overCurve: num(h.overCurve),
    failures: num(h.failures),
    successes: num(h.successes),
    lastError: h.lastError ?? '',
    ...(h.metricsUrl ? { metricsUrl: h.metricsUrl } : {}),
    ...optionalNumber('cpu', h.cpu),
    ...optionalNumber('cpuAt', h.cpuAt),
    ...(h.cpuSample ? { cpuSample: h.cpuSample } : {}),
    ...optionalNumber('modelLoad', h.modelLoad),
  };
}

/** `{ [name]: number }` when the field holds a number, `{}` when it is absent or empty. */
function optionalNumber<K extends string>(name: K, v: string | undefined): Partial<Record<K, number>> {
  if (v === undefined || v === '') return {};
  const n = Number(v);
  return Number.isFinite(n) ? ({ [name]: n } as Partial<Record<K, number>>) : {};
}

export function decodeMeeting(ref: string, h: Record<string, string>): MeetingRecord | undefined {
  if (h.server === undefined) return undefined;
  return {
    ref,
    tenant: h.tenant ?? '',
    meetingID: h.meetingID ?? '',
    upstreamID: h.upstreamID ?? h.meetingID ?? '',
    server: h.server,
    createdAt: num(h.createdAt),
    reserved: num(h.reserved),
    measuredLoad: num(h.measuredLoad),
    status: h.status === 'creating' ? 'creating' : 'running',
    overcommitted: h.overcommitted === '1',
    extra: json<Record<string, unknown>>(h.extra, {}),
    info: h.info ? json<MeetingInfo | undefined>(h.info, undefined) : undefined,
  };
}

export function decodeTenant(name: string, raw: string | undefined): TenantRecord | undefined {
  if (raw === undefined) return undefined;
  const t = json<Partial<TenantRecord>>(raw, {});
  return { name, secrets: t.secrets ?? [], hostnames: t.hostnames ?? [], settings: t.settings ?? {} };
}

/**
 * One entry of a server's reservations hash, as place-meeting.lua writes it and apply-poll.lua
 * rewrites it: `reserved|createdAt|measured|counted`. Undefined when unreadable.
 */
export function decodeReservation(value: string): { reserved: number; createdAt: number; measured: number } | undefined {
  const [reserved, createdAt, measured] = value.split('|').map(Number);
  if (!Number.isFinite(reserved) || !Number.isFinite(createdAt) || !Number.isFinite(measured)) return undefined;
  return { reserved: reserved!, createdAt: createdAt!, measured: measured! };
}
