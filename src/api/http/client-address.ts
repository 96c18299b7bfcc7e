// Who sent a request, and how it reached us: the one rule for both HTTP paths (fastify and the
// join fast path), so a rate limit keyed on the address sees the same address on both.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyAddr from '@fastify/proxy-addr';

export type TrustProxy = (addr: string, hop: number) => boolean;

/**
 * AMPHI_TRUST_PROXY as a trust function: `true`/`false`, or a comma-separated list of addresses,
 * CIDRs and proxy-addr's keywords (loopback, linklocal, uniquelocal). Hop counts are not
 * offered: they cannot check the immediate peer, so any client could spoof X-Forwarded-For.
 */
export function trustProxy(setting: string): TrustProxy {
  const value = setting.trim().toLowerCase();
  if (value === 'true') return () => true;
  if (value === 'false' || value === '') return () => false;
  return proxyAddr.compile(value.split(',').map((v) => v.trim()).filter((v) => v !== ''));
}

export interface ClientAddress {
  ip: string;
  protocol: 'http' | 'https';
}

function lastEntry(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  return value?.split(',').pop()?.trim().toLowerCase();
}

/** The client's address (X-Forwarded-For walked back through trusted proxies) and protocol. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): ClientAddress {
  const addrs = proxyAddr.all(req, trust);
  const ip = addrs[addrs.length - 1] ?? '';
  const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
  const peer = req.socket?.remoteAddress;
  // Only a trusted proxy may say the client came over https; anything but http/https is ignored.
  const forwarded = peer !== undefined && trust(peer, 0) ? lastEntry(req.headers['x-forwarded-proto']) : undefined;
  const protocol = forwarded === 'https' || forwarded === 'http' ? forwarded : encrypted ? 'https' : 'http';
  return { ip, protocol };
}
