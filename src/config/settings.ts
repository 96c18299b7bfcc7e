import { readFileSync } from 'node:fs';
import proxyAddr from '@fastify/proxy-addr';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ALL_ALGORITHMS, type ChecksumAlgorithm } from '../bbb/checksum.js';
import { parseHostPorts } from '../redis/target.js';

// Every setting of every role, from the environment and an optional YAML file
// (AMPHI_CONFIG). The environment wins over the file. A bad value stops start-up with a
// message that names the variable.

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const csv = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p !== ''));

/** A yes/no setting: 1, true, 0 or false. */
const flag = z.enum(['1', 'true', '0', 'false']).transform((v) => v === '1' || v === 'true');

/** REDIS_SENTINELS: host:port,host:port (IPv6 in brackets). */
const hostPorts = z.string().transform((text, ctx) => {
  try {
    return parseHostPorts(text);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
    return z.NEVER;
  }
});

const algorithms = csv.pipe(
  z
    .array(z.enum(ALL_ALGORITHMS as [ChecksumAlgorithm, ...ChecksumAlgorithm[]]))
    .min(1, 'name at least one of sha1, sha256, sha384, sha512'),
);

/** AMPHI_TRUST_PROXY as api/http/client-address.ts reads it: true, false, or what proxy-addr compiles. */
function isTrustSetting(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'false' || v === '') return true;
  try {
    proxyAddr.compile(v.split(',').map((p) => p.trim()).filter((p) => p !== ''));
    return true;
  } catch {
    return false;
  }
}

/** One CSP source expression of a frame-ancestors list: 'self', 'none', a scheme, a host source, or *. */
const CSP_SOURCE = /^('self'|'none'|\*|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*:\/\/)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?(\/[^\s;,'"]*)?)$/i;

/** AMPHI_FRAME_ANCESTORS: space-separated sources; 'none' only alone. Nothing that could end the directive. */
const frameAncestors = z
  .string()
  .transform((s) => s.trim().split(/\s+/).filter((p) => p !== ''))
  .refine((list) => list.length > 0 && list.every((p) => CSP_SOURCE.test(p)), "give CSP sources separated by spaces: 'self', https://site.gouv.fr, https://*.example.org")
  .refine((list) => !list.includes("'none'") || list.length === 1, "'none' stands alone")
  .transform((list) => list.join(' '));

export const SETTINGS = {
  REDIS_URL: { schema: z.string().url().optional(), help: 'Redis to use (rediss:// for TLS); gateway, poller and scaler need it or REDIS_SENTINELS' },
  REDIS_SENTINELS: { schema: hostPorts.optional(), help: 'Redis through Sentinel instead of REDIS_URL: sentinels as host:port,host:port ([IPv6]:port)' },
  REDIS_SENTINEL_MASTER: { schema: z.string().min(1).default('mymaster'), help: 'name of the master the sentinels monitor' },
  REDIS_PASSWORD: { schema: z.string().optional(), help: 'password of the Redis servers (one in REDIS_URL wins)' },
  REDIS_SENTINEL_PASSWORD: { schema: z.string().optional(), help: 'password of the sentinels' },
  REDIS_TLS: { schema: flag.default('false'), help: 'TLS to Redis and to the sentinels (true/false; rediss:// implies it)' },
  AMPHI_PRIVATE_REDIS: { schema: flag.default('0'), help: 'with neither REDIS_URL nor REDIS_SENTINELS, let gateway, poller and scaler start a private redis-server (development only)' },
  AMPHI_REDIS_WAIT_REPLICAS: { schema: int(0, 16).default(0), help: 'replicas that must hold a create (WAIT) before it is answered: no acknowledged meeting is lost in a failover (docs/redis.md)' },
  AMPHI_REDIS_COMMAND_TIMEOUT_MS: { schema: int(50).default(2000), help: 'a Redis command without a reply by then fails (a stalled Redis never hangs a request)' },
  AMPHI_POOL: { schema: z.string().regex(/^[A-Za-z0-9_-]+$/).default('default'), help: 'pool name (Redis hash tag)' },
  HOST: { schema: z.string().default('127.0.0.1'), help: 'address the gateway listens on, and the metrics listener of amphi poller and amphi scaler (AMPHI_METRICS_PORT)' },
  PORT: { schema: int(0, 65535).default(8090), help: 'port the gateway listens on' },
  AMPHI_METRICS_PORT: { schema: int(0, 65535).default(9465), help: "port of the /metrics and /health of amphi poller and amphi scaler, on HOST (0: off)" },
  AMPHI_PUBLIC_URL: { schema: z.string().url().optional(), help: 'public base URL of the gateway (index apiUrl, error redirects)' },
  AMPHI_SECRET: { schema: csv.optional(), help: 'shared secret(s) of the default tenant, comma-separated for rotation' },
  AMPHI_JWT_SECRET: { schema: z.string().min(16, 'use at least 16 characters').optional(), help: 'HS256 key for the /admin and /v1 APIs and the join links; unset: /admin, /v1, /docs and /j are off' },
  AMPHI_JWT_ISSUER: { schema: z.string().min(1).default('amphi'), help: 'iss claim of /admin tokens: minted by amphi token, required by the gateway' },
  AMPHI_JWT_AUDIENCE: { schema: z.string().min(1).default('amphi-admin'), help: 'aud claim of /admin tokens: minted by amphi token, required by the gateway' },
  AMPHI_V1_AUDIENCE: { schema: z.string().min(1).default('amphi-v1'), help: 'aud claim of /v1 tokens (amphi token --role …); distinct from the admin audience so neither token opens the other API' },
  AMPHI_FRAME_ANCESTORS: {
    schema: frameAncestors.default("'self'"),
    help: "who may embed the /j join pages in a frame: CSP frame-ancestors sources, space-separated ('self', https://site.gouv.fr, 'none')",
  },
  AMPHI_CHECKSUM_ALGORITHMS: { schema: algorithms.default('sha1,sha256,sha384,sha512'), help: 'checksum algorithms accepted from clients' },
  AMPHI_UPSTREAM_ALGORITHM: { schema: z.enum(ALL_ALGORITHMS as [ChecksumAlgorithm, ...ChecksumAlgorithm[]]).default('sha256'), help: 'algorithm used to sign calls to BBB servers' },
  AMPHI_UPSTREAM_TIMEOUT_MS: { schema: int(100).default(5000), help: 'timeout of a call to a BBB server' },
  AMPHI_POLL_INTERVAL_MS: { schema: int(200).default(5000), help: 'time between two polls of a server' },
  AMPHI_POLL_TIMEOUT_MS: { schema: int(100).default(3000), help: 'timeout of one poll' },
  AMPHI_POLL_CONCURRENCY: { schema: int(1, 1024).default(32), help: 'servers polled at once' },
  AMPHI_OFFLINE_AFTER: { schema: int(1).default(2), help: 'failed polls in a row before a server is offline' },
  AMPHI_ONLINE_AFTER: { schema: int(1).default(1), help: 'successful polls in a row before it is online again' },
  AMPHI_CREATE_GRACE_MS: { schema: int(0).default(60_000), help: 'a meeting younger than this is never forgotten by the poller' },
  AMPHI_RESERVATION_FADE_MS: { schema: int(1000).default(900_000), help: 'time for a new meeting reservation to fade out' },
  AMPHI_PLACEMENT_CHOICES: { schema: int(1, 16).default(2), help: 'random candidates compared on live load (power of d choices)' },
  AMPHI_PLACEMENT_MAX_FILL: {
    schema: z.coerce.number().gt(0).max(1).default(0.9),
    help: "share of a server's capacity placement fills while another server has room (a margin for what the load model misjudges); a full pool still places",
  },
  AMPHI_PLACEMENT_LARGE_SHARE: {
    schema: z.coerce.number().gt(0).max(1).default(0.25),
    help: 'a meeting expected to need this share of the largest server or more (a webinar) goes to the roomiest servers, not a random pair; the scaler keeps room for those its history says are coming',
  },
  AMPHI_LIVE_READ_TIMEOUT_MS: { schema: int(50).default(1000), help: 'getMeetingInfo/isMeetingRunning wait this long for the meeting server, then answer from the polled state' },
  AMPHI_LIVE_READ_CACHE_MS: { schema: int(0).default(1000), help: 'how long one live meeting answer serves every reader of that meeting' },
  AMPHI_MEETING_LIST_CACHE_MS: { schema: int(0).default(1000), help: 'how long a getMeetings answer is reused before it is rebuilt' },
  AMPHI_SNAPSHOT_MS: { schema: int(0).default(500), help: 'how long a gateway reuses its view of the pool' },
  AMPHI_TRUST_PROXY: {
    schema: z
      .string()
      .default('loopback,linklocal,uniquelocal')
      .refine(isTrustSetting, 'give true, false, or addresses, CIDRs and the keywords loopback, linklocal, uniquelocal, comma-separated'),
    help: 'proxies whose X-Forwarded-For/-Proto are believed: addresses, CIDRs, loopback/linklocal/uniquelocal, true or false',
  },
  AMPHI_RATE_LIMIT_PER_IP: { schema: int(0).default(3000), help: 'BBB API requests per client address per window (0: no limit)' },
  AMPHI_RATE_LIMIT_PER_TENANT: { schema: int(0).default(60000), help: 'authenticated BBB API requests per tenant per window (0: no limit)' },
  AMPHI_RATE_LIMIT_FAN_OUT_PER_TENANT: { schema: int(0).default(1200), help: 'recordings calls (each asks every server) per tenant per window (0: no limit)' },
  AMPHI_RATE_LIMIT_WINDOW_MS: { schema: int(1000).default(60_000), help: 'the rate-limit window' },
  AMPHI_RATE_LIMIT_ALLOW: { schema: csv.default(''), help: 'client addresses or CIDRs exempt from the per-address limit (your LMS servers), comma-separated' },
  AMPHI_REQUEST_TIMEOUT_MS: { schema: int(100).default(20_000), help: 'deadline to answer one BBB API request once received' },
  AMPHI_FORM_BODY_LIMIT: { schema: int(1024).default(256 * 1024), help: 'largest form (or multipart) POST body, in bytes' },
  AMPHI_XML_BODY_LIMIT: { schema: int(1024).default(32 * 1024 * 1024), help: 'largest XML POST body (create modules, insertDocument: presentations), in bytes' },
  AMPHI_ANNOUNCED_MAX_PARTICIPANTS_PER_TENANT: {
    schema: int(0).default(10_000),
    help: "most participants one tenant's announced meetings (meta_amphi-start) may add up to at any instant in the scaler's forecast, within its participant quota (0: announcements are not recorded)",
  },
  AMPHI_POLICY_DIR: { schema: z.string().optional(), help: 'directory of capacity policy files (default: the shipped policies/)' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), help: 'log level' },
  AMPHI_SHUTDOWN_TIMEOUT_MS: { schema: int(1000).default(25_000), help: 'on SIGTERM, exit with code 1 if stopping takes longer (keep it under the orchestrator grace period, 30 s in Kubernetes)' },
} as const;

type Spec = typeof SETTINGS;
export type Settings = { [K in keyof Spec]: z.output<Spec[K]['schema']> };

export class ConfigError extends Error {}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`AMPHI_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  const doc: unknown = parseYaml(text);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`AMPHI_CONFIG: ${path} must be a mapping of SETTING: value`);
  return doc as Record<string, unknown>;
}

/** Settings valid one by one that contradict each other. */
function conflicts(s: Settings): string[] {
  if (s.REDIS_URL && s.REDIS_SENTINELS) {
    return ['REDIS_URL and REDIS_SENTINELS are both set: give one, REDIS_URL for a single Redis or REDIS_SENTINELS for a Sentinel group'];
  }
  return [];
}

/** Reads and validates every setting; throws ConfigError naming each bad one. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const file = env.AMPHI_CONFIG ? readFile(env.AMPHI_CONFIG) : {};
  const unknown = Object.keys(file).filter((k) => !(k in SETTINGS));
  const problems = unknown.map((k) => `${k} (in ${env.AMPHI_CONFIG}): unknown setting`);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const fromEnv = env[name];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[name] === undefined ? undefined : String(file[name]);
    const parsed = (spec.schema as z.ZodTypeAny).safeParse(raw);
    if (parsed.success) out[name] = parsed.data;
    // A URL that does not parse may still hold a password: never echoed.
    else problems.push(`${name}=${name === 'REDIS_URL' ? '(hidden)' : JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length === 0) problems.push(...conflicts(out as Settings));
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as Settings;
}

/** The settings table for `--help` and the docs. */
export function settingsHelp(): string {
  return Object.entries(SETTINGS)
    .map(([name, spec]) => `  ${name.padEnd(36)} ${spec.help}`)
    .join('\n');
}
