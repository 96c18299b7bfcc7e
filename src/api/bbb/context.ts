import type { FastifyBaseLogger } from 'fastify';
import type { BbbRequest } from '../../bbb/request.js';
import type { Settings } from '../../config/settings.js';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import type { PolicyStore } from '../../policy/policy-store.js';
import type { Store } from '../../state/store.js';
import type { TrustProxy } from '../http/client-address.js';
import type { LiveMeetingReads } from './live-reads.js';
import type { MeetingListCache } from './meeting-list.js';
import type { Placer } from './placer.js';
import type { PoolView } from './pool-view.js';
import type { BbbRateLimiter } from './rate-limit.js';
import type { TenantSizes } from './tenant-sizes.js';
import type { Tenant, TenantDirectory } from './tenants.js';

/** What a gateway call needs, built once per process. */
export interface Gateway {
  store: Store;
  pool: PoolView;
  placer: Placer;
  tenants: TenantDirectory;
  meetingLists: MeetingListCache;
  liveReads: LiveMeetingReads;
  /** What each tenant's meetings sized by its default profile became (cached). */
  tenantSizes: TenantSizes;
  limiter: BbbRateLimiter;
  /** Which peers may speak for the client (X-Forwarded-For/-Proto), AMPHI_TRUST_PROXY. */
  trustProxy: TrustProxy;
  policies: PolicyStore;
  settings: Settings;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
}

/** One BBB API call being answered. */
export interface Call {
  request: BbbRequest;
  tenant: Tenant;
  /** Base URL clients reached us at, for error redirects and the index call. */
  publicBase: string;
  /** The client's address (through trusted proxies), for the per-address rate limit. */
  clientIp: string;
}

/** Every BBB XML answer, SUCCESS or FAILED, carries these (and HTTP 200). */
export const XML_HEADERS = { 'content-type': 'text/xml;charset=utf-8', 'cache-control': 'no-cache' } as const;

export type Answer =
  | { xml: string | Buffer; outcome: string; headers?: Record<string, string> }
  | { redirect: string; outcome: string };

export type CallHandler = (gw: Gateway, call: Call) => Promise<Answer>;

export const xml = (body: string | Buffer, outcome = 'success'): Answer => ({ xml: body, outcome });
