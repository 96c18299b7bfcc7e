import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import { createGatewayMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js';
import { registerPoolCollector } from '../metrics/pool-collector.js';
import { registerScalerCollector } from '../metrics/scaler-collector.js';
import { registerTenantCollector } from '../metrics/tenant-collector.js';
import { registerLoadModelCollector } from '../metrics/load-model-collector.js';
import { logScrapeFailures } from '../metrics/scrape-gauges.js';
import { registerRedisUp } from '../metrics/redis-up.js';
import { countPolicyReloads } from '../metrics/policy-reloads.js';
import { DEFAULT_POLICY_DIR, openWatchedPolicy, type PolicyStore } from '../policy/index.js';
import type { Store } from '../state/store.js';
import { LiveMeetingReads } from './bbb/live-reads.js';
import { MeetingListCache } from './bbb/meeting-list.js';
import { registerAdminApi } from './admin/routes.js';
import { registerV1Api, v1BadUrlProblem } from './v1/plugin.js';
import { badLinkUrlPage, registerJoinLinks } from './links/routes.js';
import { linkKey } from '../rooms/link-token.js';
import { RoomMeetings } from '../rooms/room-meetings.js';
import { sendProblem } from './http/problem.js';
import { Placer } from './bbb/placer.js';
import { PoolView } from './bbb/pool-view.js';
import { joinFastPath } from './bbb/join-fast-path.js';
import { badUrlAnswer, bbbRoutes, send } from './bbb/routes.js';
import { TenantDirectory } from './bbb/tenants.js';
import { BbbRateLimiter } from './bbb/rate-limit.js';
import { TenantSizes } from './bbb/tenant-sizes.js';
import { RateCounter } from '../state/rate-counter.js';
import { trustProxy } from './http/client-address.js';
import { createLogger, roleLog } from '../log/logger.js';
import { nextRequestId } from './http/request-log.js';
import type { Gateway } from './bbb/context.js';

/** How long a client may take to send one whole request, body included. */
const REQUEST_RECEIVE_TIMEOUT_MS = 120_000;

export interface AppOptions {
  store: Store;
  redis: Redis;
  settings: Settings;
  metrics?: GatewayMetrics;
  /** Answers /metrics for a gateway running as several workers (aggregated by the primary). */
  clusterMetrics?: () => Promise<string>;
  /** Loaded from AMPHI_POLICY_DIR (or the shipped policies/) and watched when not given. */
  policies?: PolicyStore;
  /** The gateway role's logger; default: a process logger at LOG_LEVEL on stdout; false: none. */
  logger?: FastifyBaseLogger | false;
  random?: () => number;
}

export interface App {
  app: FastifyInstance;
  gateway: Gateway;
}

/** The gateway's HTTP application: BBB API, health, readiness and metrics. */
export async function buildApp(opts: AppOptions): Promise<App> {
  const { store, settings } = opts;
  // Set once the gateway exists; until then every request goes to fastify.
  const fast: { path?: (req: IncomingMessage, res: ServerResponse) => boolean } = {};
  const trust = trustProxy(settings.AMPHI_TRUST_PROXY);
  const log: FastifyBaseLogger | false = opts.logger ?? roleLog(createLogger(settings.LOG_LEVEL), 'gateway');
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!fast.path?.(req, res)) handler(req, res);
      });
      // Load balancers and clients keep connections open; so must we, for join throughput.
      server.keepAliveTimeout = 65_000;
      // A client has this long to send a whole request, body included (slow senders hold sockets).
      server.requestTimeout = REQUEST_RECEIVE_TIMEOUT_MS;
      return server;
    },
    ...(log === false ? { logger: false } : { loggerInstance: log }),
    // Two log lines per request cost a fifth of join throughput; requests are counted and timed
    // in metrics instead, and errors are logged with their call and request id (reqId).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
    // While closing, a request on a connection still open is served (with Connection: close) rather
    // than answered fastify's JSON 503, which no BBB client understands; /ready says 503 itself.
    return503OnClosing: false,
    trustProxy: trust,
    // An undecodable path never reaches a route: on the BBB API it still gets BBB's answer.
    frameworkErrors: (err, req, res) => {
      const reply = res as FastifyReply;
      const answer = err.code === 'FST_ERR_BAD_URL' ? badUrlAnswer(req.raw.url ?? req.url) : undefined;
      if (answer) return send(reply, answer);
      // The rooms' URLs answer in their own forms: a page for /j, a problem for /v1.
      const url = req.raw.url ?? req.url;
      if (settings.AMPHI_JWT_SECRET) {
        const page = badLinkUrlPage(url, req.headers['accept-language'], settings.AMPHI_FRAME_ANCESTORS);
        if (page) return reply.code(page.status).headers(page.headers).send(page.body);
        const problem = v1BadUrlProblem(url, err);
        if (problem) return sendProblem(reply, problem);
      }
      return reply.code(err.statusCode ?? 400).send({ statusCode: err.statusCode ?? 400, code: err.code, error: 'Bad Request', message: err.message });
    },
  });
  const metrics = opts.metrics ?? createGatewayMetrics();
  const policies = opts.policies ?? (await openWatchedPolicy(settings.AMPHI_POLICY_DIR ?? DEFAULT_POLICY_DIR, app.log));
  if (!opts.policies) app.addHook('onClose', async () => policies.close());
  registerPoolCollector(metrics.registry, store, settings.AMPHI_RESERVATION_FADE_MS);
  registerScalerCollector(metrics.registry, store);
  registerTenantCollector(metrics.registry, store);
  registerLoadModelCollector(metrics.registry, store, () => policies.current().load.weights);
  if (log !== false) logScrapeFailures(metrics.registry, log);
  registerRedisUp(metrics.registry, opts.redis);
  countPolicyReloads(metrics.registry, policies);
  const pool = new PoolView(store, {
    maxAgeMs: settings.AMPHI_SNAPSHOT_MS,
    fadeMs: settings.AMPHI_RESERVATION_FADE_MS,
    algorithm: settings.AMPHI_UPSTREAM_ALGORITHM,
    timeoutMs: settings.AMPHI_UPSTREAM_TIMEOUT_MS,
  });
  const gateway: Gateway = {
    store,
    pool,
    placer: new Placer(store, pool, {
      choices: settings.AMPHI_PLACEMENT_CHOICES,
      maxFill: settings.AMPHI_PLACEMENT_MAX_FILL,
      largeShare: settings.AMPHI_PLACEMENT_LARGE_SHARE,
      fadeMs: settings.AMPHI_RESERVATION_FADE_MS,
      random: opts.random,
    }),
    tenants: new TenantDirectory(store, settings.AMPHI_SECRET ?? []),
    meetingLists: new MeetingListCache(store, pool, settings.AMPHI_MEETING_LIST_CACHE_MS),
    liveReads: new LiveMeetingReads({ timeoutMs: settings.AMPHI_LIVE_READ_TIMEOUT_MS, cacheMs: settings.AMPHI_LIVE_READ_CACHE_MS }),
    tenantSizes: new TenantSizes(store),
    limiter: new BbbRateLimiter(new RateCounter(store.ctx, settings.AMPHI_RATE_LIMIT_WINDOW_MS), {
      perAddress: settings.AMPHI_RATE_LIMIT_PER_IP,
      perTenant: settings.AMPHI_RATE_LIMIT_PER_TENANT,
      fanOutPerTenant: settings.AMPHI_RATE_LIMIT_FAN_OUT_PER_TENANT,
      windowMs: settings.AMPHI_RATE_LIMIT_WINDOW_MS,
      allow: settings.AMPHI_RATE_LIMIT_ALLOW,
    }),
    trustProxy: trust,
    policies,
    settings,
    metrics,
    log: app.log,
  };

  await app.register(bbbRoutes, { gateway });
  fast.path = joinFastPath(gateway);
  if (settings.AMPHI_JWT_SECRET) {
    await registerAdminApi(app, {
      store,
      jwtSecret: settings.AMPHI_JWT_SECRET,
      issuer: settings.AMPHI_JWT_ISSUER,
      audience: settings.AMPHI_JWT_AUDIENCE,
      check: { algorithm: settings.AMPHI_UPSTREAM_ALGORITHM, timeoutMs: settings.AMPHI_UPSTREAM_TIMEOUT_MS },
      policy: () => policies.current(),
    });
    // Teachers' rooms: the /v1 API (and its /docs) and the /j join pages share one RoomMeetings.
    const rooms = new RoomMeetings(gateway);
    await registerV1Api(app, {
      gateway,
      rooms,
      jwtSecret: settings.AMPHI_JWT_SECRET,
      issuer: settings.AMPHI_JWT_ISSUER,
      audience: settings.AMPHI_V1_AUDIENCE,
    });
    await registerJoinLinks(app, { gateway, rooms, linkKey: linkKey(settings.AMPHI_JWT_SECRET) });
  }

  // Shutdown (app.close(): the gateway role's stop): /ready answers 503 from its first step, so
  // that load balancers send no more work here, while the requests in flight still complete.
  let stopping = false;
  let reaper: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    stopping = true;
    // Node closes idle keep-alive connections once, when the server stops listening; one whose
    // request was in flight then would stay open for keepAliveTimeout (65 s) after it, beyond
    // AMPHI_SHUTDOWN_TIMEOUT_MS. Close each as soon as it falls idle.
    reaper = setInterval(() => app.server.closeIdleConnections(), 100).unref();
  });
  app.addHook('onClose', async () => clearInterval(reaper)); // onClose runs once the server is closed

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (req, reply) => {
    if (stopping) return reply.code(503).send({ status: 'stopping' });
    try {
      await opts.redis.ping();
      return { status: 'ready' };
    } catch (err) {
      // The error names internal addresses: the log gets it, the (public) body a generic reason.
      req.log.warn({ err }, 'ready: Redis does not answer');
      return reply.code(503).send({ status: 'unavailable', reason: 'redis unavailable' });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await (opts.clusterMetrics ?? (() => metrics.registry.metrics()))();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
  return { app, gateway };
}
