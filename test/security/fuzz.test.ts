// Property-based fuzzing of the BBB API through the gateway, over one simulated server, with a
// fixed seed. Requests are sent byte for byte (test/helpers/raw-http.ts), never following a
// redirect on their own: random and hostile parameter names and values, call names, paths,
// methods, content types and bodies, correctly signed (so they reach the handlers) or not.
//
// FUZZ_RUNS (default below) is the number of requests per property; FUZZ_SEED changes the seed.
// `npm run fuzz` runs this file with many more (a longer run for people, not for CI). With
// FUZZ_COLLECT=1 a property does not stop at its first failure (nor shrink it): it runs all its
// requests and fails at the end with one example of each distinct kind of violation.
//
// What every answer must be (decided here; bbb-api.md §0 says every BBB answer is HTTP 200 XML
// and join a 302):
//   * never a 5xx, and never a FAILED `serviceUnavailable` (an internal error in disguise: Redis
//     and the server are up throughout);
//   * a 302 whose Location is an absolute http(s) URL made of printable ASCII only;
//   * or a 200 whose body is well-formed XML with a `<response>` root (the index call too),
//     Content-Type text/xml; exceptions: HEAD (no body), and insertDocument, which BBB answers
//     with an empty body when the POST has none (bbb-api.md §3.8: "a missing body is silently
//     ignored (no response body is rendered)");
//   * or, for a path that is not the BBB API (`[/t/<tenant>]/bigbluebutton/api[/…]`), whatever
//     4xx fastify answers on its own (404; 415 or 400 for a body it will not read); on an API
//     path, likewise only for OPTIONS, the one method no API route has;
//   * or, from Node's HTTP parser before any application code, a 400 for a request target with
//     bytes outside printable ASCII, or a 431 for a request target over 8 KB (Node's 16 KB
//     header limit).
// And for a request that is not correctly signed for the tenant it names, a 302 never goes to a
// host named in its errorRedirectUrl or logoutURL (no unauthenticated open redirect), unless that
// host is the one the request itself was sent to (its Host header: without AMPHI_PUBLIC_URL the
// gateway's own base comes from the request, README "Configuration").
// After every request: the victim tenant's meetings (created beforehand on the same server)
// are still running and hold nobody the fuzzer put there; a join redirected to the server is
// followed into the simulated client, so a join that crossed tenants shows as an attendee.
// At the end: the gateway still answers, /metrics has no call label outside the BBB API, and no
// exception escaped the gateway (an uncaught one would have killed a real gateway process). The
// simulated server runs in this process too: an exception it throws itself is the simulator's
// bug, printed once as a warning, not a failure of these tests.
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeComponent } from '../../src/bbb/client.js';
import { GATEWAY_SECRET, startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';
import { rawGetUrl, rawRequest, type RawResponse } from '../helpers/raw-http.js';

const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 2000));
const COLLECT = process.env.FUZZ_COLLECT !== undefined && process.env.FUZZ_COLLECT !== '' && process.env.FUZZ_COLLECT !== '0';
const SEED = Number(process.env.FUZZ_SEED ?? 424242);
/** Per-test timeout grows with the run count, so `npm run fuzz` is not cut short. */
const TIMEOUT_MS = 60_000 + RUNS * 200;

const FUZZ_SECRET = 'fuzz-tenant-secret-0123456789abcdef';
const VICTIM_SECRET = 'victim-tenant-secret-never-known-to-the-fuzzer';
const RATE_LIMITS_OFF = { AMPHI_RATE_LIMIT_PER_IP: '0', AMPHI_RATE_LIMIT_PER_TENANT: '0' };

/** The tenants the fuzzer holds secrets of. */
const SIGNERS = {
  default: { prefix: '', secret: GATEWAY_SECRET },
  fuzz: { prefix: '/t/fuzz', secret: FUZZ_SECRET },
} as const;
type Signer = keyof typeof SIGNERS;

const BBB_CALLS = [
  'create', 'join', 'end', 'isMeetingRunning', 'getMeetingInfo', 'getMeetings', 'insertDocument', 'sendChatMessage',
  'getRecordings', 'publishRecordings', 'deleteRecordings', 'updateRecordings', 'getSessions', 'getJoinUrl',
  'getRecordingTextTracks', 'putRecordingTextTrack', 'hooks/create', 'hooks/destroy', 'hooks/list',
];
const HOSTILE_CALLS = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf',
  '../', '..', '../join', '..%2Fjoin', '%2e%2e/join', '%2E%2E%2Fjoin', 'join/../create', 'join%2F', 'join/', 'join//',
  '%6Aoin', 'JOIN', 'Join', 'join%00', 'join;jsessionid=x', 'join.json', 'join%3Fx', 'hooks', 'hooks/', 'hooks/../join',
  'api', 'bigbluebutton/api/join', '/join', '\\join', 'join\\', 'enter', 'stuns', 'feedback', '%F0%9F%99%82',
  'constructor/prototype', '__proto__/join', 'create%2Fjoin', '%2F', '%00', '.', './join', 'join/.', '%20join',
];

// ------------------------------------------------------------------------------------------------
// Wire encodings

/** UTF-8 bytes of a string, lone surrogates as their 3-byte (WTF-8) form rather than U+FFFD. */
function wtf8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out.push(...Buffer.from(s.slice(i, i + 2), 'utf8'));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    } else out.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return out;
}
const hex = (b: number, lower: boolean): string => `%${lower ? b.toString(16).padStart(2, '0') : b.toString(16).toUpperCase().padStart(2, '0')}`;
const BROKEN = ['%C3%28', '%FF', '%', '%G1', '%u2603', '%E2%82', '%ED%A0%80', '%C0%AF', '%F0%9F', '%%', '%2', '%00'];

type Encoding = 'strict' | 'minimal' | 'plus' | 'all' | 'lower' | 'latin1' | 'broken';
const ENCODINGS: Encoding[] = ['strict', 'minimal', 'plus', 'all', 'lower', 'latin1', 'broken'];

/** A value as it goes on the wire; every form only uses characters undici accepts (U+0021–U+00FF). */
function encode(s: string, how: Encoding, at = 0): string {
  switch (how) {
    case 'strict': {
      let out = '';
      for (const b of wtf8(s)) out += /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) && b < 0x80 ? String.fromCharCode(b) : hex(b, false);
      return out;
    }
    case 'minimal':
    case 'plus': {
      let out = '';
      for (const ch of s) {
        const code = ch.charCodeAt(0);
        if (ch === ' ' && how === 'plus') out += '+';
        else if (code < 0x21 || code > 0x7e || '%&=+#'.includes(ch)) out += wtf8(ch).map((b) => hex(b, false)).join('');
        else out += ch;
      }
      return out;
    }
    case 'all':
    case 'lower':
      return wtf8(s).map((b) => hex(b, how === 'lower')).join('');
    case 'latin1': {
      // Raw bytes 0x80–0xFF in the request target (invalid UTF-8 on the wire), the rest minimal.
      let out = '';
      for (const ch of s) {
        const code = ch.charCodeAt(0);
        if (code >= 0xa0 && code <= 0xff) out += ch;
        else out += encode(ch, 'minimal');
      }
      return out;
    }
    case 'broken': {
      const base = encode(s, 'strict');
      const cut = base.length === 0 ? 0 : at % (base.length + 1);
      return `${base.slice(0, cut)}${BROKEN[at % BROKEN.length]}${base.slice(cut)}`;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Arbitraries

const URLS = [
  'https://evil.example/x', 'http://evil.example', '//evil.example/', 'https:evil.example', 'javascript:alert(1)',
  'data:text/html,x', 'http://127.0.0.1:1/', 'https://evil.example\\@good.example', 'https://☃.example/', ' https://evil.example',
  'https://evil.example/\r\nSet-Cookie: x=1', 'http://[::1]/', 'https://evil.example:99999/', 'HTTPS://EVIL.EXAMPLE',
  'https://evil.example/?q=1#f', '☃', 'https://x', 'https://evil.example/%E2%98%83', 'https://évil.example/', 'ftp://evil.example/',
  'https://evil.example/\u0000', '/\\evil.example', 'https://evil.example/<script>',
];
const MEETING_IDS = ['room', 'fz-1', 'vroom', 'victim~room', 'victim~vroom', 'victim%7Eroom', '%76ictim~room', 'fuzz~room', 'default~room', '~room', 'room~', 'x'];
const VALUES = [
  ...URLS, ...MEETING_IDS,
  'MODERATOR', 'VIEWER', 'moderator', 'true', 'false', 'TRUE', '', 'yes', '0', '-1', '1e309', '99999999999999999999', 'NaN',
  '<x>&"\'', ']]>', '<![CDATA[x]]>', '<?xml version="1.0"?>', '&amp;', '&#0;', '&#x1F;', '\u0000', '\u0001\u001f', '\u007f',
  '\r\n', '\t', 'é', '☃', '𝄞', '\uFEFF', '\u202E', '\uD800', '\uDFFF', 'a\uD83D', '__proto__', 'constructor', '{"__proto__":1}',
  'any', 'published,unpublished', 'default', 'classroom', 'webinar',
];
const KNOWN_NAMES = [
  'meetingID', 'fullName', 'role', 'password', 'redirect', 'errorRedirectUrl', 'logoutURL', 'record', 'name', 'attendeePW',
  'moderatorPW', 'recordID', 'publish', 'meta_x', 'meta_amphi-profile', 'meta_server-tag', 'userID', 'createTime', 'message',
  'offset', 'limit', 'state', 'checksum', 'maxParticipants', 'voiceBridge', 'userdata-x', 'isBreakout', 'parentMeetingID', 'guest',
  'duration', 'meta_amphi-expected-participants',
];
const HOSTILE_NAMES = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', '', ' ', 'meetingID[]', 'meetingID.x',
  'MEETINGID', 'meta___proto__', 'meta_constructor', 'userdata-__proto__',
];
/** Already-encoded spellings of names that decode to something meaningful. */
const ENCODED_NAMES = [
  '%6DeetingID', 'meeting%49D', 'meeting%00ID', 'meeting%7FID', 'meeting%0AID', 'errorRedirect%55rl', '%65rrorRedirectUrl',
  'logout%55RL', 'check%73um', '%63hecksum', 'meetingID%20', '+meetingID', '%5F_proto__', 'redirect%00',
];
const JUNK = ['', '', '', '&&&', '=x', '=', '&=&', '&', 'a', '==', '%', '%%', '&checksum=', 'checksum', '&amp;', ';', '?', '??x=1', '#frag'];

const shortText = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 16 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom('<', '>', '&', '"', "'", '\u0000', '\u001f', '\u007f', 'é', '☃', '\uD800', '\uDFFF', '~', '%', '+', ' ', '=', '#', '?', '/', '\\', 'a'),
      maxLength: 24,
    }),
  },
);
const longText = (max: number) => fc.integer({ min: 200, max }).chain((n) => fc.constantFrom('x', 'é', '<', '%', '\u0000').map((c) => c.repeat(n)));
const valueText = (maxLong: number) => fc.oneof({ weight: 12, arbitrary: shortText }, { weight: 1, arbitrary: longText(maxLong) });

const wireName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KNOWN_NAMES).map((n) => encodeComponent(n)) },
  { weight: 2, arbitrary: fc.constantFrom(...ENCODED_NAMES) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_NAMES), fc.constantFrom(...ENCODINGS), fc.nat()).map(([n, how, at]) => encode(n, how, at)) },
  { weight: 1, arbitrary: fc.tuple(shortText, fc.constantFrom(...ENCODINGS), fc.nat()).map(([n, how, at]) => encode(n, how, at)) },
);
/** One `name=value` (or bare `name`) piece of a query or form body. */
const wirePiece = (maxLong: number) =>
  fc.tuple(wireName, fc.option(fc.tuple(valueText(maxLong), fc.constantFrom(...ENCODINGS), fc.nat()), { freq: 8 })).map(([name, value]) =>
    value === null ? name : `${name}=${encode(value[0], value[1], value[2])}`,
  );
/**
 * `redirect=` with an empty value is a known case with a test of its own ("signed join,
 * redirect= (empty)"): the properties leave it out so that it does not hide everything else.
 */
const emptyRedirect = (piece: string): boolean => {
  const eq = piece.indexOf('=');
  return decodeLoose(eq === -1 ? piece : piece.slice(0, eq)) === 'redirect' && decodeLoose(eq === -1 ? '' : piece.slice(eq + 1)) === '';
};
/** Pieces, a junk piece somewhere, joined with `&`. */
const wireQuery = (maxLong: number, maxPieces = 8) =>
  fc.tuple(fc.array(wirePiece(maxLong), { maxLength: maxPieces }), fc.constantFrom(...JUNK), fc.nat()).map(([pieces, junk, at]) => {
    const all = pieces.filter((p) => !emptyRedirect(p));
    if (junk !== '') all.splice(at % (all.length + 1), 0, junk);
    return all.join('&');
  });

type Signing = { kind: 'valid'; algorithm: 'sha1' | 'sha256' | 'sha512'; at: 'end' | 'start' | 'middle' } | { kind: 'none' } | { kind: 'wrong'; checksum: string };
const signing: fc.Arbitrary<Signing> = fc.oneof(
  fc.record({ kind: fc.constant('valid' as const), algorithm: fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const), at: fc.constantFrom('end' as const, 'start' as const, 'middle' as const) }),
  fc.constant({ kind: 'none' as const }),
  fc.record({
    kind: fc.constant('wrong' as const),
    checksum: fc.oneof(fc.constantFrom('0', '00', '', '0'.repeat(40), 'f'.repeat(64), 'zz', '%00', 'x'.repeat(128)), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 40, maxLength: 40 })),
  }),
);

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'] as const;
type Method = (typeof METHODS)[number];
const method: fc.Arbitrary<Method> = fc.oneof({ weight: 10, arbitrary: fc.constant('GET' as const) }, { weight: 5, arbitrary: fc.constant('POST' as const) }, { weight: 3, arbitrary: fc.constantFrom(...METHODS) });

const CONTENT_TYPES = [
  undefined, 'application/x-www-form-urlencoded', 'application/xml', 'text/xml', 'application/json', 'multipart/form-data; boundary=xyz',
  'multipart/form-data', 'text/plain', 'garbage/;;;', '', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/XML',
  'application/xml; charset=latin1', '*/*', 'application/x-www-form-urlencoded, application/xml',
];
const XML_BODY = '<modules><module name="presentation"><document url="https://evil.example/a.pdf" filename="a.pdf"/></module></modules>';
const body = fc.oneof(
  fc.constant(undefined),
  wireQuery(100_000, 4),
  fc.constantFrom(XML_BODY, '<modules>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><modules>&e;</modules>', '{"__proto__":{"x":1},"meetingID":"room"}', '--xyz\r\nContent-Disposition: form-data; name="meetingID"\r\n\r\nroom\r\n--xyz--\r\n', '\u0000\u0001\u0002', ''),
  longText(100_000),
);

/** Who a request speaks as: a path prefix (and the secret it is signed with, when it is one we hold). */
const PREFIXES = [
  { prefix: '', signer: 'default' as Signer },
  { prefix: '/t/fuzz', signer: 'fuzz' as Signer },
  { prefix: '/t/victim', signer: 'fuzz' as Signer },
  { prefix: '/t/nobody', signer: 'fuzz' as Signer },
  { prefix: '/t/FUZZ', signer: 'fuzz' as Signer },
  { prefix: '/t/fu%7Az', signer: 'fuzz' as Signer },
  { prefix: '/t/__proto__', signer: 'fuzz' as Signer },
];
const ownPrefix = fc.constantFrom(PREFIXES[0]!, PREFIXES[1]!);
const anyPrefix = fc.oneof({ weight: 4, arbitrary: ownPrefix }, { weight: 1, arbitrary: fc.constantFrom(...PREFIXES.slice(2)) });

interface FuzzRequest {
  prefix: string;
  signer: Signer;
  /** The path below `<prefix>/bigbluebutton/api`: `''`, `/`, or `/<call>`; or a whole non-API path. */
  below: string;
  nonApiPath?: string;
  query: string;
  signing: Signing;
  method: Method;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
}

// ------------------------------------------------------------------------------------------------

interface Sent {
  path: string;
  /** Signed with the secret of the tenant the path (or Host) names. */
  signed: boolean;
  res: RawResponse;
  callName: string | undefined;
}

describe('fuzzing the BBB API through the gateway', () => {
  let pool: TestPool;
  let gw: TestGateway;
  /**
   * Exceptions nobody caught (they would kill a real gateway process). The simulated server runs
   * in this process too: its own escapes are kept apart (they are the simulator's bugs, reported
   * once, and its hung answer only cuts short the following of a redirect).
   */
  const escaped: unknown[] = [];
  const simulatorEscapes: unknown[] = [];
  const inflight = new Set<AbortController>();
  const onEscape = (err: unknown): void => {
    const stack = err instanceof Error ? (err.stack ?? '') : '';
    if (/src\/simulator\//.test(stack) && !/src\/(api|bbb|state|policy)\//.test(stack)) {
      if (simulatorEscapes.push(err) === 1) console.warn('the simulated BBB server threw (a simulator bug, not the gateway):', err);
      return;
    }
    escaped.push(err);
    for (const c of inflight) c.abort(new Error(`an exception escaped the gateway: ${err instanceof Error ? err.message : String(err)}`));
  };
  /** The victim's meetings: upstream ID and the session tokens of the users it put there. */
  const victim = new Map<string, Set<string>>();
  const sim = () => pool.cluster.servers()[0]!.server;
  let simOrigin = '';

  beforeAll(async () => {
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    pool = await startTestPool({ servers: 1, capacity: 1_000_000, label: 'fuzz', env: { AMPHI_MEETING_LIST_CACHE_MS: '0', ...RATE_LIMITS_OFF } });
    await pool.store.tenants.put({ name: 'fuzz', secrets: [FUZZ_SECRET], hostnames: ['fuzz.test'], settings: {} });
    await pool.store.tenants.put({ name: 'victim', secrets: [VICTIM_SECRET], hostnames: ['victim.test'], settings: {} });
    gw = await pool.startGateway();
    simOrigin = sim().baseUrl;
    const victimClient = gw.clientFor('/t/victim', VICTIM_SECRET);
    for (const id of ['room', 'vroom', 'fz-1']) {
      await victimClient.create([['meetingID', id], ['name', `victim ${id}`], ['attendeePW', 'vap-secret'], ['moderatorPW', 'vmp-secret'], ['record', 'true']]);
      const m = sim().state(false).meetings.find((x) => x.name === `victim ${id}`)!;
      const added = sim().addUsers(m.meetingID, { count: 2, fullName: 'victim-user', role: 'MODERATOR' });
      victim.set(m.meetingID, new Set(added.admitted.map((u) => u.sessionToken)));
    }
    await ensureOwnMeetings();
  }, 60_000);

  /** The fuzzing tenants' own meetings, (re)created: earlier properties may have ended them. */
  async function ensureOwnMeetings(): Promise<void> {
    for (const signer of ['default', 'fuzz'] as const) {
      const c = gw.clientFor(SIGNERS[signer].prefix, SIGNERS[signer].secret);
      for (const id of ['room', 'fz-1', 'x~y']) await c.create([['meetingID', id], ['name', `${signer} ${id}`], ['record', 'true']]).catch(() => undefined);
    }
  }

  afterAll(async () => {
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
    await pool?.close();
  });

  /** Builds the raw target, signing over exactly the query the gateway will split off. */
  function build(r: FuzzRequest): { path: string; signed: boolean; callName: string | undefined } {
    const unsignedPath = r.nonApiPath ?? `${r.prefix}/bigbluebutton/api${r.below}`;
    const joined = r.query === '' ? unsignedPath : `${unsignedPath}?${r.query}`;
    const q = joined.indexOf('?');
    const pathPart = q === -1 ? joined : joined.slice(0, q);
    let query = q === -1 ? '' : joined.slice(q + 1);
    const apiBase = `${r.prefix}/bigbluebutton/api`;
    const callName = r.nonApiPath === undefined && pathPart.startsWith(apiBase) ? pathPart.slice(apiBase.length).replace(/^\//, '').replace(/\/+$/, '') : undefined;
    let signed = false;
    if (r.signing.kind === 'valid' && callName !== undefined) {
      const cs = createHash(r.signing.algorithm).update(callName + query + SIGNERS[r.signer].secret).digest('hex');
      const pieces = query === '' ? [] : query.split('&');
      if (r.signing.at === 'end' || pieces.length === 0) query = query === '' ? `checksum=${cs}` : `${query}&checksum=${cs}`;
      else if (r.signing.at === 'start') query = `checksum=${cs}&${query}`;
      else query = [...pieces.slice(0, 1), `checksum=${cs}`, ...pieces.slice(1)].join('&');
      // Signed for the tenant the request names, and the gateway reads our checksum, not an earlier one.
      const namedTenant = r.headers?.host !== undefined && r.prefix === '' ? tenantOfHost(r.headers.host) : r.prefix === '' ? 'default' : r.prefix.slice(3);
      signed = namedTenant === r.signer && !precededByOtherChecksum(query, cs);
    } else if (r.signing.kind === 'wrong') {
      query = query === '' ? `checksum=${r.signing.checksum}` : `${query}&checksum=${r.signing.checksum}`;
    }
    return { path: query === '' && q === -1 ? pathPart : `${pathPart}?${query}`, signed, callName };
  }

  function tenantOfHost(host: string): string {
    const bare = host.toLowerCase().replace(/:\d+$/, '');
    return bare === 'fuzz.test' ? 'fuzz' : bare === 'victim.test' ? 'victim' : 'default';
  }

  /** Whether a parameter decoding to `checksum` comes before ours (the gateway reads the first). */
  function precededByOtherChecksum(query: string, ours: string): boolean {
    for (const part of query.split('&')) {
      const eq = part.indexOf('=');
      const name = decodeLoose(eq === -1 ? part : part.slice(0, eq));
      if (name !== 'checksum') continue;
      return part !== `checksum=${ours}`;
    }
    return false;
  }

  async function send(r: FuzzRequest): Promise<Sent & { escapedBefore: number }> {
    const escapedBefore = escaped.length;
    const { path, signed, callName } = build(r);
    const controller = new AbortController();
    inflight.add(controller);
    try {
      const headers: Record<string, string> = { ...r.headers };
      if (r.contentType !== undefined && r.body !== undefined) headers['content-type'] = r.contentType;
      const res = await rawRequest(gw.url, {
        method: r.method,
        path,
        headers,
        body: r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' ? r.body : undefined,
        timeoutMs: 15_000,
        signal: controller.signal,
      });
      // An exception thrown while answering shows right after the answer, or never answers.
      await new Promise((resolve) => setImmediate(resolve));
      return { path, signed, res, callName, escapedBefore };
    } catch (err) {
      throw new Error(`${(err as Error).message}\n  ${r.method} ${path.slice(0, 600)}`, { cause: err });
    } finally {
      inflight.delete(controller);
    }
  }

  /** The invariants every answer must meet; returns what is wrong, or undefined. */
  function violation(r: FuzzRequest, s: Sent & { escapedBefore: number }): string | undefined {
    const { res } = s;
    if (escaped.length > s.escapedBefore) return `an exception escaped the gateway: ${String(escaped[s.escapedBefore])}`;
    if (res.status >= 500) return `HTTP ${res.status}`;
    if (res.status === 302) {
      const loc = res.location;
      if (loc === undefined) return '302 without a (single) Location';
      if (!/^[\x21-\x7e]+$/.test(loc)) return `Location is not printable ASCII: ${JSON.stringify(loc.slice(0, 200))}`;
      let url: URL;
      try {
        url = new URL(loc);
      } catch {
        return `Location is not an absolute URL: ${loc.slice(0, 200)}`;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return `Location is not http(s): ${loc.slice(0, 200)}`;
      if (!s.signed) {
        // Without AMPHI_PUBLIC_URL the gateway's own base is the Host the client used (by design,
        // README "AMPHI_PUBLIC_URL: from the request"): a redirect there is not an open redirect.
        const named = namedRedirectHosts(s.path);
        const ownHost = (r.headers?.host ?? new URL(gw.url).host).toLowerCase();
        if (named.has(url.host.toLowerCase()) && url.host.toLowerCase() !== ownHost) return `unsigned request redirected to a host it named: ${loc.slice(0, 200)}`;
      }
      return undefined;
    }
    if (res.status === 200) {
      if (r.method === 'HEAD') return res.bytes.length === 0 ? undefined : 'HEAD answer with a body';
      const ct = String(res.headers['content-type'] ?? '');
      if (res.text === '' && s.callName === 'insertDocument') return undefined;
      if (!ct.startsWith('text/xml')) return `200 with Content-Type ${JSON.stringify(ct)}: ${res.text.slice(0, 200)}`;
      const valid = XMLValidator.validate(res.text);
      if (valid !== true) return `200 with malformed XML (${valid.err.msg}): ${res.text.slice(0, 300)}`;
      if (!/^\s*(<\?xml[^>]*\?>\s*)?<response[\s>]/.test(res.text) || !/<\/response>\s*$/.test(res.text)) return `200 without a <response> root: ${res.text.slice(0, 200)}`;
      if (res.text.includes('<messageKey>serviceUnavailable</messageKey>')) return `internal error: ${res.text.replace(/\s+/g, ' ').slice(0, 300)}`;
      return undefined;
    }
    const target = s.path;
    // Outside the BBB API fastify answers on its own (404, or 415/400 for a body it cannot take).
    if (res.status >= 400 && res.status < 500 && !isApiRoute(target)) return undefined;
    // OPTIONS: no API route has it; fastify answers 404 (or 400/415 for a body it cannot parse).
    if (res.status >= 400 && res.status < 500 && r.method === 'OPTIONS') return undefined;
    if (res.status === 400 && /[^\x21-\x7e]/.test(target)) return undefined;
    if (res.status === 431 && target.length > 8000) return undefined;
    return `HTTP ${res.status} ${String(res.headers['content-type'] ?? '')}: ${res.text.slice(0, 200)}`;
  }

  /** A join redirected to the simulated server is followed into the client, so the user enters. Says whether it did. */
  async function follow(s: Sent): Promise<boolean> {
    if (s.res.status !== 302 || !s.res.location?.startsWith(`${simOrigin}/bigbluebutton/api/join?`)) return false;
    try {
      const upstream = await rawGetUrl(s.res.location, { timeoutMs: 1000 });
      if (upstream.status !== 302 || !upstream.location?.startsWith(`${simOrigin}/html5client/join?`)) return false;
      return (await rawGetUrl(upstream.location, { timeoutMs: 1000 })).status === 200;
    } catch {
      return false; // the simulated server did not answer (see simulatorEscapes)
    }
  }

  /** The victim's meetings still run and hold only the victim's users. */
  function victimHarm(): string | undefined {
    for (const [upstreamID, tokens] of victim) {
      const m = sim().model.meeting(upstreamID);
      if (!m) return `victim meeting ${upstreamID} is gone`;
      if (m.forciblyEnded) return `victim meeting ${upstreamID} was ended`;
      const strangers = [...m.users.values()].filter((u) => !tokens.has(u.sessionToken));
      if (strangers.length > 0) return `victim meeting ${upstreamID} has ${strangers.map((u) => JSON.stringify(u.fullName)).join(', ')} inside`;
      if (m.users.size !== tokens.size) return `victim meeting ${upstreamID} lost users`;
    }
    return undefined;
  }

  /** What the requests of one property came to, so each property shows it reached what it aims at. */
  type Tally = Record<string, number>;
  function tallyOf(s: Sent, entered: boolean, t: Tally): void {
    const key = (k: string) => (t[k] = (t[k] ?? 0) + 1);
    key(`HTTP ${s.res.status}`);
    if (s.signed) key('signed');
    const messageKey = /<messageKey>([^<]*)<\/messageKey>/.exec(s.res.text)?.[1];
    if (messageKey !== undefined) key(`key ${messageKey || '(empty)'}`);
    if (/<returncode>SUCCESS<\/returncode>/.test(s.res.text)) key('SUCCESS');
    if (s.res.status === 302 && s.res.location?.includes('errors=')) key('error redirect');
    if (s.signed && s.res.status === 302 && s.res.location?.startsWith(simOrigin)) key('signed join redirected to the server');
    if (entered) key('entered a meeting');
  }

  async function check(r: FuzzRequest, t: Tally): Promise<void> {
    const s = await send(r);
    const bad = violation(r, s);
    if (bad) throw new Error(`${bad}\n  ${r.method} ${s.path.slice(0, 600)}${s.path.length > 600 ? '…' : ''}\n  signed=${s.signed} status=${s.res.status}`);
    const entered = await follow(s);
    tallyOf(s, entered, t);
    const harm = victimHarm();
    if (harm) throw new Error(`${harm}\n  after ${r.method} ${s.path.slice(0, 600)}`);
  }

  /** Runs a property; returns the tally of its last (non-shrinking) pass. */
  async function assertProperty(arb: fc.Arbitrary<FuzzRequest>, offset: number): Promise<Tally> {
    const tally: Tally = {};
    if (!COLLECT) {
      await fc.assert(fc.asyncProperty(arb, (r) => check(r, tally)), { seed: SEED + offset, numRuns: RUNS });
      return tally;
    }
    // One example of each kind of violation (its first line, digits and hex blurred).
    const kinds = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        try {
          await check(r, tally);
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          const kind = text.split('\n')[0]!.replace(/[0-9a-f]{8,}/g, '…').replace(/\d+/g, 'N').slice(0, 120);
          if (!kinds.has(kind)) kinds.set(kind, text.slice(0, 1200));
        }
      }),
      { seed: SEED + offset, numRuns: RUNS },
    );
    expect([...kinds.values()]).toEqual([]);
    return tally;
  }
  /** At least `share` of the runs (and at least one) fell into `key`. */
  const reached = (t: Tally, key: string, share: number): void => {
    expect(t[key] ?? 0, `${key} in ${JSON.stringify(t)}`).toBeGreaterThanOrEqual(Math.max(1, Math.floor(RUNS * share)));
  };

  it('undici sends the request target byte for byte (the harness check, on a raw TCP listener)', async () => {
    // Node's HTTP parser would refuse some of these (raw bytes 0x80–0xFF): read the request line off the socket.
    const seen: Buffer[] = [];
    const sockets = new Set<Socket>();
    const echo = createServer((socket) => {
      sockets.add(socket);
      let head = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const line = head.subarray(0, head.indexOf('\r\n'));
        seen.push(line.subarray(line.indexOf(' ') + 1, line.lastIndexOf(' ')));
        head = head.subarray(end + 4);
        socket.write('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const targets = [
      '/a/../b/./c', '/%2e%2e/%2E%2E/x', '/bigbluebutton/api/join?a=%00&b=%C3%28&c=%FF&d=%&e=%G1', '/x?=&&&=x&__proto__=1',
      '/x?a=é&b=\u00ff', '/x?#frag', '/x//y?q=?%3F', "/x?'\"<>`{}|\\^", '/t/fu%7Az/bigbluebutton/api/%6Aoin?%6DeetingID=x',
    ];
    for (const t of targets) await rawRequest(origin, { path: t });
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
    // Characters U+0080–U+00FF go out as single (latin1) bytes: invalid UTF-8, as intended.
    expect(seen.map((b) => b.toString('latin1'))).toEqual(targets);
  });

  // Known hostile requests, each a test of its own (the same invariants as the properties), so
  // that one known defect never hides the rest of a property's runs.
  describe('known hostile requests', () => {
    const example = (e: Partial<FuzzRequest> & Pick<FuzzRequest, 'below' | 'query' | 'signing'>): FuzzRequest => ({ prefix: '', signer: 'default', method: 'GET', ...e });
    const WRONG = (checksum: string): Signing => ({ kind: 'wrong', checksum });
    const VALID: Signing = { kind: 'valid', algorithm: 'sha1', at: 'end' };
    const CASES: [string, FuzzRequest][] = [
      ['join, bad checksum, non-ASCII logoutURL', example({ below: '/join', query: 'logoutURL=%E2%98%83', signing: WRONG('0') })],
      ['join, bad checksum, errorRedirectUrl=https://x (open redirect)', example({ below: '/join', query: 'errorRedirectUrl=https://x', signing: WRONG('00') })],
      ['join, no checksum, errorRedirectUrl to another host', example({ below: '/join', query: 'errorRedirectUrl=https%3A%2F%2Fevil.example%2F&meetingID=room&fullName=x', signing: { kind: 'none' } })],
      ['join, bad checksum, logoutURL to another host', example({ below: '/join', query: 'meetingID=room&fullName=x&logoutURL=https%3A%2F%2Fevil.example%2F', signing: WRONG('0'.repeat(40)) })],
      ['tenant join, bad checksum, non-ASCII redirect URLs', example({ prefix: '/t/fuzz', signer: 'fuzz', below: '/join', query: 'logoutURL=https%3A%2F%2F%E2%98%83.example%2F&errorRedirectUrl=%E2%98%83', signing: WRONG('0') })],
      ['unknown tenant join, errorRedirectUrl to another host', example({ prefix: '/t/nobody', below: '/join', query: 'errorRedirectUrl=https://evil.example', signing: WRONG('0'.repeat(40)) })],
      ['join signed with the other tenant\'s secret, errorRedirectUrl to another host', example({ prefix: '/t/victim', signer: 'fuzz', below: '/join', query: 'meetingID=room&fullName=x&errorRedirectUrl=https://evil.example', signing: VALID })],
      ['signed join, redirect= (empty)', example({ below: '/join', query: 'meetingID=room&fullName=x&role=MODERATOR&redirect=', signing: VALID })],
      ['signed join of an unknown meeting, non-ASCII logoutURL', example({ below: '/join', query: 'meetingID=nowhere&fullName=x&role=MODERATOR&logoutURL=%E2%98%83', signing: VALID })],
      ['signed join of an unknown meeting, errorRedirectUrl=javascript:', example({ below: '/join', query: 'meetingID=nowhere&fullName=x&errorRedirectUrl=javascript%3Aalert(1)', signing: VALID })],
      ...['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'].flatMap((c): [string, FuzzRequest][] => [
        [`call ${c}, signed`, example({ below: `/${c}`, query: '', signing: VALID })],
        [`call ${c}, unsigned`, example({ below: `/${c}`, query: 'meetingID=room', signing: WRONG('0') })],
        [`call ${c}, tenant, signed POST form`, example({ prefix: '/t/fuzz', signer: 'fuzz', below: `/${c}`, query: '', signing: VALID, method: 'POST', contentType: 'application/x-www-form-urlencoded', body: 'meetingID=room' })],
      ]),
    ];
    for (const [name, r] of CASES) {
      it(name, async () => {
        await check(r, {});
      });
    }
  });

  it('unsigned and badly signed requests (join-heavy, hostile redirect URLs)', async () => {
    const arb = fc
      .record({
        p: anyPrefix,
        call: fc.oneof({ weight: 6, arbitrary: fc.constant('join') }, { weight: 3, arbitrary: fc.constantFrom(...BBB_CALLS) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_CALLS) }),
        redirect: fc.array(fc.tuple(fc.constantFrom('errorRedirectUrl', 'logoutURL', 'errorRedirect%55rl', 'logout%55RL'), fc.constantFrom(...URLS), fc.constantFrom(...ENCODINGS), fc.nat()), { minLength: 1, maxLength: 3 }),
        query: wireQuery(6000, 5),
        signing: fc.oneof(fc.constant({ kind: 'none' as const }), signing.filter((x) => x.kind !== 'valid')),
        method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET' as const) }, { weight: 1, arbitrary: method }),
      })
      .map(({ p, call, redirect, query, signing: sg, method: m }): FuzzRequest => {
        const pieces = redirect.map(([n, v, how, at]) => `${n}=${encode(v, how, at)}`);
        return { prefix: p.prefix, signer: p.signer, below: `/${call}`, query: [query, ...pieces].filter((x) => x !== '').join('&'), signing: sg, method: m };
      });
    const t = await assertProperty(arb, 1);
    reached(t, 'error redirect', 0.3);
    reached(t, 'key checksumError', 0.1);
  }, TIMEOUT_MS);

  it('correctly signed requests to every call, with hostile parameters and bodies', async () => {
    const arb = fc
      .record({
        p: ownPrefix,
        call: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...BBB_CALLS) }, { weight: 1, arbitrary: fc.constant('join') }),
        // A join that can succeed (an own meeting, a name, a role), for a share of the runs.
        joinable: fc.option(fc.tuple(fc.constantFrom('room', 'fz-1', 'x~y'), fc.constantFrom('MODERATOR', 'VIEWER')), { freq: 2 }),
        ids: fc.array(fc.tuple(fc.constantFrom('meetingID', '%6DeetingID', 'recordID'), fc.constantFrom(...MEETING_IDS), fc.constantFrom(...ENCODINGS), fc.nat()), { maxLength: 2 }),
        name: fc.option(fc.tuple(fc.constantFrom('fullName', 'name'), shortText), { freq: 2 }),
        query: wireQuery(6000),
        algorithm: fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const),
        at: fc.constantFrom('end' as const, 'start' as const, 'middle' as const),
        method: fc.oneof({ weight: 6, arbitrary: fc.constant('GET' as const) }, { weight: 3, arbitrary: fc.constant('POST' as const) }, { weight: 1, arbitrary: method }),
        contentType: fc.constantFrom(...CONTENT_TYPES),
        body,
      })
      .map((x): FuzzRequest => {
        const pieces = x.joinable ? [`meetingID=${encodeComponent(x.joinable[0])}`, 'fullName=fuzzer', `role=${x.joinable[1]}`] : [];
        pieces.push(...x.ids.map(([n, v, how, at]) => `${n}=${encode(v, how, at)}`));
        if (x.name) pieces.push(`${x.name[0]}=${encodeComponent(x.name[1].replace(/[\uD800-\uDFFF]/g, '?'))}`);
        const query = [...pieces, x.query].filter((q) => q !== '').join('&');
        return { prefix: x.p.prefix, signer: x.p.signer, below: `/${x.call}`, query, signing: { kind: 'valid', algorithm: x.algorithm, at: x.at }, method: x.method, contentType: x.contentType, body: x.body };
      });
    const t = await assertProperty(arb, 2);
    reached(t, 'signed', 0.9);
    reached(t, 'SUCCESS', 0.05);
    reached(t, 'signed join redirected to the server', 0.005);
  }, TIMEOUT_MS);

  it('hostile call names, paths, methods, content types and bodies, signed or not', async () => {
    const arb = fc
      .record({
        p: anyPrefix,
        below: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_CALLS).map((c) => `/${c}`) },
          { weight: 2, arbitrary: fc.constantFrom(...BBB_CALLS).map((c) => `/${c}`) },
          { weight: 1, arbitrary: fc.constantFrom('', '/', '//', '/%20', '/%09') },
          // Decodable spellings only: an undecodable path has a test of its own below.
          { weight: 1, arbitrary: fc.tuple(shortText, fc.constantFrom<Encoding>('strict', 'minimal', 'all', 'lower')).map(([c, how]) => `/${encode(c.replace(/[\uD800-\uDFFF]/g, '?'), how)}`) },
        ),
        nonApiPath: fc.option(
          fc.constantFrom('/bigbluebutton/apix/join', '//bigbluebutton/api/join', '/bigbluebutton/', '/t/', '/t//bigbluebutton/api/join', '/t/fuzz/bigbluebutton/api/../../../x', '/', '/BIGBLUEBUTTON/api/join', '/bigbluebutton/api/..', '/%62igbluebutton/api/join'),
          { freq: 6 },
        ),
        query: wireQuery(6000),
        signing,
        method,
        contentType: fc.constantFrom(...CONTENT_TYPES),
        body,
      })
      .map((x): FuzzRequest => ({
        prefix: x.p.prefix,
        signer: x.p.signer,
        below: x.below,
        ...(x.nonApiPath === null ? {} : { nonApiPath: x.nonApiPath }),
        query: x.query,
        signing: x.signing,
        method: x.method,
        contentType: x.contentType,
        body: x.body,
      }));
    const t = await assertProperty(arb, 3);
    reached(t, 'key unsupportedContentType', 0.005);
    reached(t, 'HTTP 404', 0.02);
  }, TIMEOUT_MS);

  it('an API path with an undecodable percent-sequence is answered like any other unknown call', async () => {
    const bad: string[] = [];
    for (const path of ['/bigbluebutton/api/%ED%BF%BF', '/bigbluebutton/api/%FF', '/bigbluebutton/api/join%C3%28x', '/bigbluebutton/api/%', '/t/%FF/bigbluebutton/api/getMeetings', '/t/fuzz/bigbluebutton/api/%E2%82', '/t/%E2%82/bigbluebutton/api/join']) {
      for (const m of ['GET', 'POST'] as const) {
        const r: FuzzRequest = { prefix: '', signer: 'default', below: '', nonApiPath: path, query: 'checksum=0', signing: { kind: 'none' }, method: m };
        const s = await send(r);
        const v = violation(r, { ...s, path: `${path}?checksum=0` });
        // Paths like these are API paths (isApiRoute): a fastify 4xx is not allowed for them.
        if (v || (s.res.status >= 400 && isApiRoute(path))) bad.push(`${m} ${path}: ${v ?? `HTTP ${s.res.status} ${s.res.text.slice(0, 160)}`}`);
      }
    }
    expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
  });

  it('signed joins smuggling a second spelling of meetingID (own meeting + the victim\'s)', async () => {
    await ensureOwnMeetings();
    const victimIds = () => [...victim.keys()];
    const arb = fc
      .record({
        p: ownPrefix,
        own: fc.constantFrom('room', 'fz-1', 'x~y'),
        smuggled: fc.array(
          fc.tuple(
            fc.constantFrom('%6DeetingID', 'meeting%49D', 'meeting%00ID', 'meeting%7FID', 'meeting%0AID', '%6D%65%65%74%69%6E%67%49%44', 'meetingID', 'meetingID%00', '%00meetingID'),
            fc.oneof(fc.constantFrom('room', 'vroom', 'victim~room', 'victim~vroom', 'victim%7Eroom'), fc.nat().map((i) => victimIds()[i % victimIds().length]!)),
            fc.constantFrom<Encoding>('strict', 'minimal', 'all', 'lower'),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        ownFirst: fc.boolean(),
        // Anything but `redirect` (a join with redirect=false answers XML: nobody enters).
        extra: wireQuery(200, 3).map((q) => q.split('&').filter((p) => decodeLoose(p.split('=')[0]!) !== 'redirect').join('&')),
        algorithm: fc.constantFrom('sha1' as const, 'sha256' as const),
      })
      .map((x): FuzzRequest => {
        const own = `meetingID=${encodeComponent(x.own)}`;
        const theirs = x.smuggled.map(([n, v, how]) => `${n}=${encode(v, how)}`);
        const pieces = x.ownFirst ? [own, ...theirs] : [...theirs, own];
        const query = ['fullName=fuzzer', ...pieces, 'role=MODERATOR', x.extra].filter((q) => q !== '').join('&');
        return { prefix: x.p.prefix, signer: x.p.signer, below: '/join', query, signing: { kind: 'valid', algorithm: x.algorithm, at: 'end' }, method: 'GET' };
      });
    const t = await assertProperty(arb, 4);
    reached(t, 'entered a meeting', 0.2);
  }, TIMEOUT_MS);

  it('hostile Host and X-Forwarded-Proto headers', async () => {
    await ensureOwnMeetings();
    const arb = fc
      .record({
        p: ownPrefix,
        call: fc.constantFrom('join', 'join', 'join', 'getMeetings', ''),
        host: fc.option(fc.constantFrom('victim.test', 'fuzz.test', 'evil.example', 'evil.example:443', 'évil.example', 'a b', 'x/y', '[::1]:1', 'evil.example@x', '', 'VICTIM.TEST'), { freq: 2 }),
        proto: fc.option(fc.constantFrom('javascript', 'https', 'http', 'ftp', 'https, http', 'data', 'HTTP', 'http://evil.example/', ''), { freq: 2 }),
        forwardedHost: fc.option(fc.constantFrom('evil.example', 'victim.test'), { freq: 3 }),
        query: wireQuery(200, 4),
        redirect: fc.option(fc.constantFrom(...URLS), { freq: 2 }),
        signing,
      })
      .map((x): FuzzRequest => {
        const headers: Record<string, string> = {};
        if (x.host !== null) headers.host = x.host;
        if (x.proto !== null) headers['x-forwarded-proto'] = x.proto;
        if (x.forwardedHost !== null) headers['x-forwarded-host'] = x.forwardedHost;
        const pieces = [`meetingID=room`, 'fullName=fuzzer', x.query];
        if (x.redirect !== null) pieces.push(`errorRedirectUrl=${encodeComponent(x.redirect)}`);
        return { prefix: x.p.prefix, signer: x.p.signer, below: x.call === '' ? '' : `/${x.call}`, query: pieces.filter((q) => q !== '').join('&'), signing: x.signing, method: 'GET', headers };
      });
    const t = await assertProperty(arb, 5);
    reached(t, 'error redirect', 0.2);
  }, TIMEOUT_MS);

  it('afterwards: the gateway still answers, the victim is untouched, /metrics labels stay bounded, nothing escaped', async () => {
    expect(escaped.map(String)).toEqual([]);
    const index = await rawRequest(gw.url, { path: '/bigbluebutton/api' });
    expect(index.status).toBe(200);
    expect(index.text).toContain('<returncode>SUCCESS</returncode>');
    const list = await rawRequest(gw.url, { path: `/t/fuzz/bigbluebutton/api/getMeetings?checksum=${createHash('sha1').update(`getMeetings${FUZZ_SECRET}`).digest('hex')}` });
    expect(list.text).toContain('<returncode>SUCCESS</returncode>');
    expect((await rawRequest(gw.url, { path: '/health' })).status).toBe(200);
    expect(victimHarm()).toBeUndefined();
    const metrics = (await rawRequest(gw.url, { path: '/metrics' })).text;
    const labels = new Set([...metrics.matchAll(/^amphi_requests_total\{[^}]*call="([^"]*)"/gm)].map((m) => m[1]!));
    expect(labels.size).toBeGreaterThan(2);
    expect([...labels].filter((l) => ![...BBB_CALLS, 'index', 'unknown'].includes(l))).toEqual([]);
  });
});

function decodeLoose(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  let out: string;
  try {
    out = decodeURIComponent(plus);
  } catch {
    out = plus;
  }
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\u0000-\u001f\u007f]/g, '');
}

/** Hosts named by errorRedirectUrl / logoutURL (any spelling that decodes to those names). */
function namedRedirectHosts(path: string): Set<string> {
  const hosts = new Set<string>();
  const q = path.indexOf('?');
  if (q === -1) return hosts;
  for (const part of path.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = decodeLoose(part.slice(0, eq));
    if (name !== 'errorRedirectUrl' && name !== 'logoutURL') continue;
    const value = decodeLoose(part.slice(eq + 1));
    for (const candidate of [value, value.trim()]) {
      try {
        hosts.add(new URL(candidate).host.toLowerCase());
      } catch {
        // not a URL: a redirect to it cannot be an absolute http(s) URL anyway
      }
    }
  }
  return hosts;
}

/** `<prefix>/bigbluebutton/api` or below it, for a prefix that is empty or `/t/<one segment>`. */
function isApiRoute(target: string): boolean {
  const path = target.split('?')[0]!;
  return /^(\/t\/[^/]+)?\/bigbluebutton\/api(\/.*)?$/.test(path);
}
