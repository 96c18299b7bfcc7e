// Which Redis a process talks to, as one value: a URL, or a Sentinel group naming its primary.
// Built once from the settings; connect.ts turns it into ioredis options, a parent passes it to
// its children as environment variables, and logs print it without its passwords.
import { isIPv6 } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { SECRET_PARAMS } from '../log/redact-text.js';

export interface HostPort {
  host: string;
  port: number;
}

interface Common {
  /** Password of the Redis servers (REDIS_PASSWORD); a password in REDIS_URL wins. */
  password?: string;
  /** TLS to the servers (and, for Sentinel, to the sentinels). */
  tls: boolean;
}

export type RedisTarget =
  | (Common & { kind: 'url'; url: string })
  | (Common & { kind: 'sentinel'; sentinels: HostPort[]; master: string; sentinelPassword?: string });

/** The settings a target is built from (config/settings.ts, already checked one by one). */
export interface RedisSettings {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: HostPort[] | undefined;
  REDIS_SENTINEL_MASTER: string;
  REDIS_PASSWORD?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_TLS: boolean;
}

/** A host name (RFC 1123 labels, dots between them) or an IPv4 address, which has the same shape. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `host:port,host:port`, an IPv6 address in brackets (`[::1]:26379`); throws a message naming the bad entry. */
export function parseHostPorts(text: string): HostPort[] {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error('name at least one sentinel as host:port');
  return entries.map((entry) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[3]);
    const host = m?.[1] ?? m?.[2];
    const hostOk = m?.[1] !== undefined ? isIPv6(m[1]) : host !== undefined && HOST_NAME.test(host);
    if (!m || !hostOk || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port (an IPv6 address goes in brackets: [::1]:26379)`);
    return { host: host!, port };
  });
}

function formatHostPorts(list: readonly HostPort[]): string {
  return list.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
}

/** The configured Redis, or undefined when neither REDIS_URL nor REDIS_SENTINELS is set. */
export function redisTargetOf(s: RedisSettings): RedisTarget | undefined {
  const password = s.REDIS_PASSWORD ? { password: s.REDIS_PASSWORD } : {};
  if (s.REDIS_SENTINELS) {
    return {
      kind: 'sentinel',
      sentinels: s.REDIS_SENTINELS,
      master: s.REDIS_SENTINEL_MASTER,
      tls: s.REDIS_TLS,
      ...password,
      ...(s.REDIS_SENTINEL_PASSWORD && { sentinelPassword: s.REDIS_SENTINEL_PASSWORD }),
    };
  }
  if (s.REDIS_URL) return { kind: 'url', url: s.REDIS_URL, tls: s.REDIS_TLS || s.REDIS_URL.startsWith('rediss://'), ...password };
  return undefined;
}

/**
 * The environment that makes a child process (a gateway worker, the scenario's gateway and
 * poller) reach the same Redis; every Redis variable is set, empty when unused, so none
 * inherited from the parent contradicts it.
 */
export function redisTargetEnv(t: RedisTarget): Record<string, string> {
  return {
    REDIS_URL: t.kind === 'url' ? t.url : '',
    REDIS_SENTINELS: t.kind === 'sentinel' ? formatHostPorts(t.sentinels) : '',
    REDIS_SENTINEL_MASTER: t.kind === 'sentinel' ? t.master : '',
    REDIS_SENTINEL_PASSWORD: (t.kind === 'sentinel' && t.sentinelPassword) || '',
    REDIS_PASSWORD: t.password ?? '',
    REDIS_TLS: String(t.tls),
  };
}

const SECRET_PARAM_NAMES = new Set(SECRET_PARAMS.map((p) => p.toLowerCase()));

/** The URL as it may be printed: a password in it, in its user info or its query (`?password=…`), is replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM_NAMES.has(name.toLowerCase())) u.searchParams.set(name, '***');
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The target as logs may print it: never a password. */
export function describeRedisTarget(t: RedisTarget): string {
  const tls = t.tls && !(t.kind === 'url' && t.url.startsWith('rediss://')) ? ' (TLS)' : '';
  if (t.kind === 'url') return `${redactUrl(t.url)}${tls}`;
  return `Sentinel master "${t.master}" via ${formatHostPorts(t.sentinels)}${tls}`;
}

/** What ioredis needs to reach the target: a URL (its own fields win over the options) and options. */
export function connectionOf(t: RedisTarget): { url?: string; options: RedisOptions } {
  const options: RedisOptions = {
    ...(t.password !== undefined && { password: t.password }),
    ...(t.tls && { tls: {} }),
  };
  if (t.kind === 'url') return { url: t.url, options };
  return {
    options: {
      ...options,
      sentinels: t.sentinels,
      name: t.master,
      ...(t.sentinelPassword !== undefined && { sentinelPassword: t.sentinelPassword }),
      ...(t.tls && { enableTLSForSentinelMode: true, sentinelTLS: {} }),
      // Reconnect at once when the sentinels announce a new primary (+switch-master), rather
      // than when the old one's connection finally fails.
      failoverDetector: true,
    },
  };
}
