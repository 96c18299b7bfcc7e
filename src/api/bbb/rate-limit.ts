// Rate limits of the BBB API, per client address and per tenant, counted in Redis so every
// gateway replica and worker shares them (state/rate-counter.ts). They are applied inside the
// BBB answer function that both HTTP paths use (the join fast path skips fastify's hooks, so a
// fastify hook would miss joins).
import proxyAddr from '@fastify/proxy-addr';
import type { BbbMessage } from '../../bbb/types.js';
import type { AddressLimit } from '../../state/meeting-directory.js';
import type { RateCounter } from '../../state/rate-counter.js';

export interface RateLimitOptions {
  /** Requests per window from one client address; 0 turns the limit off. */
  perAddress: number;
  /** Authenticated requests per window for one tenant; 0 turns the limit off. */
  perTenant: number;
  /** Authenticated calls that ask every server (recordings) per window for one tenant; 0: off. */
  fanOutPerTenant: number;
  windowMs: number;
  /** Addresses and CIDRs exempt from the per-address limit (a tenant's LMS servers). */
  allow: readonly string[];
}

export interface Limited {
  retryAfterSeconds: number;
}

export const limitedFor = (ms: number): Limited => ({ retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });

/** The BBB answer to a limited request. */
export const tooManyRequests = (limited: Limited): BbbMessage => ({
  messageKey: 'tooManyRequests',
  message: `Too many requests. Please try again in ${limited.retryAfterSeconds} seconds.`,
});

/**
 * What the per-address limit counts: an IPv4 address, or an IPv6 /64 (one host usually holds a
 * whole /64 and could otherwise rotate through its addresses).
 */
export function addressKey(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4) return v4[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class BbbRateLimiter {
  private readonly exempt: (addr: string, hop: number) => boolean;

  constructor(
    private readonly counter: RateCounter,
    private readonly opts: RateLimitOptions,
  ) {
    this.exempt = opts.allow.length > 0 ? proxyAddr.compile([...opts.allow]) : () => false;
  }

  /**
   * The window a request from `ip` counts in; undefined when that address is not limited. Joins
   * are counted in it by the join's own Redis call (meeting-directory countJoin).
   */
  addressLimit(ip: string): AddressLimit | undefined {
    if (this.opts.perAddress === 0 || ip === '' || this.exempt(ip, 0)) return undefined;
    return { subject: `ip:${addressKey(ip)}`, max: this.opts.perAddress, windowMs: this.opts.windowMs };
  }

  /** Counts a request from `ip`; says when it is over the per-address limit. */
  address(ip: string): Promise<Limited | undefined> {
    const limit = this.addressLimit(ip);
    return limit ? this.count(limit.subject, limit.max) : Promise.resolve(undefined);
  }

  /** Counts an authenticated request of a tenant; says when it is over the per-tenant limit. */
  tenant(name: string): Promise<Limited | undefined> {
    if (this.opts.perTenant === 0) return Promise.resolve(undefined);
    return this.count(`tenant:${name}`, this.opts.perTenant);
  }

  /** Counts a call of a tenant that asks every server; says when it is over that budget. */
  fanOut(name: string): Promise<Limited | undefined> {
    if (this.opts.fanOutPerTenant === 0) return Promise.resolve(undefined);
    return this.count(`fan-out:${name}`, this.opts.fanOutPerTenant);
  }

  private async count(subject: string, max: number): Promise<Limited | undefined> {
    try {
      const { current, ttlMs } = await this.counter.count(subject);
      return current <= max ? undefined : limitedFor(ttlMs);
    } catch {
      // Redis trouble must not refuse every request: the call itself will meet it anyway.
      return undefined;
    }
  }
}
