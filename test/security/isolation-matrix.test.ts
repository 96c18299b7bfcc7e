// Tenant isolation, as a matrix: four tenants on ONE simulated BBB server, each holding the same
// set of meeting IDs built to collide (each other's names with the `~` separator, percent-encoded
// look-alikes, spaces, `+`, non-ASCII, `~` at either end). Every (caller, victim, call) cell is a
// test of its own: the caller works on the IDs that could reach the victim's meetings under any
// naive namespace encoding, and must only ever see, join, change or end its own.
//
// Ownership is read on the simulated server, never from the gateway: every meeting is named
// `<tenant>|<tenant-local ID>` by its creator, so a user who lands in a meeting, a recording or an
// upstream call (seen through a recording proxy in front of the server) tells whose it is.
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAdminToken } from '../../src/admin/token.js';
import { BbbClientError, encodeComponent, type BbbClient } from '../../src/bbb/client.js';
import { computeChecksum } from '../../src/bbb/checksum.js';
import { parseForm, splitUrl } from '../../src/bbb/request.js';
import type { CreateResult, MeetingInfo, Recording } from '../../src/bbb/types.js';
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import type { MeetingView } from '../../src/simulator/sim-state.js';
import { GATEWAY_SECRET, startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';
import { rawGetUrl, rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';

// ------------------------------------------------------------------------------------------------
// Tenants and IDs

interface TenantDef {
  name: string;
  /** `''` for the default tenant, else `/t/<name>`. */
  prefix: string;
  secret: string;
  /** Its meetings get a user before the poll (isMeetingRunning must then say true, and only for it). */
  running: boolean;
}

const TENANTS: readonly TenantDef[] = [
  { name: 'default', prefix: '', secret: GATEWAY_SECRET, running: true },
  { name: 'acme', prefix: '/t/acme', secret: 'acme-bbb-secret-0123456789abcdef', running: false },
  { name: 'globex', prefix: '/t/globex', secret: 'globex-bbb-secret-0123456789abcd', running: false },
  { name: 'room', prefix: '/t/room', secret: 'room-bbb-secret-0123456789abcdefg', running: true },
];
const NAMES = TENANTS.map((t) => t.name);
const JWT_SECRET = 'isolation-matrix-jwt-secret-0123456789';

/**
 * These tests make thousands of calls from one address: the per-address and per-tenant rate
 * limits (src/config/settings.ts AMPHI_RATE_LIMIT_*) are switched off (0).
 */
const RATE_LIMIT_ENV: Record<string, string> = { AMPHI_RATE_LIMIT_PER_IP: '0', AMPHI_RATE_LIMIT_PER_TENANT: '0' };

/** Meeting IDs that collide under some naive namespace encoding, around a base word. */
function shapes(b: string): string[] {
  const s = [b, `~${b}`, `${b}~`, `my ${b}`];
  for (const t of NAMES) s.push(`${t}~${b}`);
  s.push(
    `acme~~${b}`,
    `acme~${b}~`,
    `acme~my ${b}`,
    `acme%7E${b}`,
    `acme%7e${b}`,
    `%61cme~${b}`,
    `acme%25${b}`,
    `acme%${b}`,
    `acme%2525${b}`,
    `acme ${b}`,
    `acme+${b}`,
    `acme~${b} `,
    ` acme~${b}`,
    `acmé~${b}`,
    `é~${b}`,
    `acme~é${b}`,
    `~acme~${b}`,
    `room~~${b}`,
    `globex~room~${b}`,
  );
  return [...new Set(s)];
}

/** The main set every tenant creates, plus IDs that are nothing but separators and names. */
const IDS = [...shapes('room'), 'acme~', '~acme', 'room~xy', 'xy'];
/** Recorded meetings (each tenant gets a recording of each). */
const REC_IDS = shapes('rec');

const safeDecode = (x: string): string => {
  try {
    return decodeURIComponent(x);
  } catch {
    return x;
  }
};
/** Namespace encodings a gateway could plausibly get wrong: plain, `~` escaped only, decoded, lower-cased escapes. */
const NAIVE: readonly ((t: string, id: string) => string)[] = [
  (t, id) => (t === 'default' ? id : `${t}~${id}`),
  (t, id) => {
    const e = id.replace(/~/g, '%7E');
    return t === 'default' ? e : `${t}~${e}`;
  },
  (t, id) => {
    const d = safeDecode(id);
    return t === 'default' ? d : `${t}~${d}`;
  },
  (t, id) => {
    const e = id.replace(/~/g, '%7E').toLowerCase();
    return t === 'default' ? e : `${t}~${e}`;
  },
];
const LOOKALIKE: Readonly<Record<string, RegExp>> = { acme: /acme|%61cme|acmé/ };

/** The caller's IDs (among `set`) that could address one of the victim's meetings of `set`. */
function targetsIn(set: readonly string[], caller: string, victim: string): string[] {
  return set.filter(
    (x) =>
      set.some((y) => NAIVE.some((f) => f(caller, x) === f(victim, y))) ||
      (victim !== 'default' && x.startsWith(`${victim}~`)) ||
      (LOOKALIKE[victim]?.test(x) ?? false),
  );
}

/** The spelling a caller would use for a victim's local ID `local` (a true collision under the old encoding when one side is the default tenant). */
function aliasPair(caller: string, victim: string, local: string): { victimId: string; callerId: string } {
  if (victim === 'default') return { victimId: `${caller}~${local}`, callerId: local };
  return { victimId: local, callerId: `${victim}~${local}` };
}

/** The documented upstream encoding (only used where the test checks the server's IDs). */
function documentedUpstream(t: string, id: string): string {
  const escaped = id.replace(/[%~]/g, (c) => (c === '%' ? '%25' : '%7E'));
  return t === 'default' ? escaped : `${t}~${escaped}`;
}

const PAIRS = TENANTS.flatMap((c) => TENANTS.filter((v) => v !== c).map((v) => ({ c, v })));

// ------------------------------------------------------------------------------------------------
// Wire helpers

/** Every byte as %XX. */
function pctAll(s: string, lower = false): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const hex = b.toString(16).padStart(2, '0');
    out += `%${lower ? hex : hex.toUpperCase()}`;
  }
  return out;
}
/** Only what a query value must escape; `~`, `'`, `!`, `(`, `)`, `*` stay raw. */
function pctMinimal(s: string, plusForSpace = false): string {
  let out = '';
  for (const ch of s) {
    if (ch === ' ' && plusForSpace) out += '+';
    else if (/[%&=+#\s"<>`\\^{|}[\]]/.test(ch) || ch.charCodeAt(0) > 0x7e || ch.charCodeAt(0) < 0x21) out += pctAll(ch);
    else out += ch;
  }
  return out;
}
/** Distinct wire spellings of one meeting ID, all decoding to it. */
function spellings(id: string): string[] {
  return [...new Set([encodeComponent(id), pctMinimal(id), pctMinimal(id, true), pctAll(id), pctAll(id, true)])];
}

function signedPath(t: TenantDef, call: string, query: string): string {
  return `${t.prefix}/bigbluebutton/api/${call}?${query}${query === '' ? '' : '&'}checksum=${computeChecksum(call, query, t.secret)}`;
}

const ownerOf = (name: string): string => name.slice(0, name.indexOf('|'));
const localOf = (name: string): string => name.slice(name.indexOf('|') + 1);
const nameFor = (t: string, id: string): string => `${t}|${id}`;
/** BBB XML read through the project's parser comes back trimmed (parse.ts trimValues), so text read that way is compared trimmed. */
const same = (read: string, expected: string): boolean => read.trim() === expected.trim();
const xmlText = (xml: string, tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];

// ------------------------------------------------------------------------------------------------

interface Own {
  internalMeetingID: string;
  attendeePW: string;
  moderatorPW: string;
}
type CreateOutcome = { ok: true; result: CreateResult } | { ok: false; messageKey: string; detail: string };

interface JoinProbe {
  fullName: string;
  status: number;
  location: string | undefined;
  /** The query the gateway sent the server (when it redirected there). */
  upstreamQuery?: string;
  /** The meeting the user entered, from the simulated client's answer. */
  landed?: { name: string; externMeetingID: string };
  /** Names of the simulated meetings the probe user is in, read from the server's state. */
  inside: string[];
}

describe('tenant isolation matrix (one simulated server, four tenants, colliding meeting IDs)', () => {
  let pool: TestPool;
  let gw: TestGateway;
  let proxy: RecordingProxy;
  let poller: Poller;
  /** tenant → local ID → what its own create answered. */
  const own = new Map<string, Map<string, Own>>(NAMES.map((n) => [n, new Map()]));
  /** Answers of the first create of every (tenant, ID) of IDS, in creation order. */
  const firstCreates: { tenant: string; id: string; given: { attendeePW: string; moderatorPW: string }; outcome: CreateOutcome }[] = [];
  /** Answers of the alias creates made without passwords (create cells read them). */
  const aliasCreates = new Map<string, CreateOutcome>();
  let probeSeq = 0;

  const sim = () => pool.cluster.servers()[0]!.server;
  const simMeetings = (): MeetingView[] => sim().state(true).meetings;
  const simByName = (name: string): MeetingView | undefined => simMeetings().find((m) => m.name === name);
  const simRecordings = (): Recording[] => sim().model.recordings.find({ states: ['any'] });
  const clientOf = (t: TenantDef): BbbClient => gw.clientFor(t.prefix, t.secret);

  async function create(t: TenantDef, id: string, opts: { passwords?: { attendeePW: string; moderatorPW: string }; record?: boolean } = {}): Promise<CreateOutcome> {
    const params: [string, string][] = [
      ['meetingID', id],
      ['name', nameFor(t.name, id)],
      ['record', opts.record === false ? 'false' : 'true'],
    ];
    if (opts.passwords) params.push(['attendeePW', opts.passwords.attendeePW], ['moderatorPW', opts.passwords.moderatorPW]);
    try {
      const result = await clientOf(t).create(params);
      return { ok: true, result };
    } catch (err) {
      if (err instanceof BbbClientError) return { ok: false, messageKey: err.messageKey ?? err.kind, detail: err.message };
      throw err;
    }
  }

  function remember(t: string, id: string, outcome: CreateOutcome): void {
    if (outcome.ok && outcome.result.messageKey !== 'duplicateWarning') {
      const r = outcome.result;
      own.get(t)!.set(id, { internalMeetingID: r.internalMeetingID, attendeePW: r.attendeePW ?? '', moderatorPW: r.moderatorPW ?? '' });
    }
  }

  /** Every password, internal ID and name of one tenant's meetings, as created. */
  function secretsOf(t: string): { passwords: Set<string>; internalIDs: Set<string> } {
    const passwords = new Set<string>();
    const internalIDs = new Set<string>();
    for (const o of own.get(t)!.values()) {
      for (const pw of [o.attendeePW, o.moderatorPW]) if (pw !== '') passwords.add(pw);
      internalIDs.add(o.internalMeetingID);
    }
    for (const m of simMeetings()) if (ownerOf(m.name) === t) internalIDs.add(m.internalMeetingID);
    return { passwords, internalIDs };
  }

  async function seedUsers(t: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const m = simByName(nameFor(t, id));
      if (m) sim().addUsers(m.meetingID, { count: 1, fullName: `seed ${t}` });
    }
  }

  /** A signed join with the given meeting part of the query, followed to the simulated client. */
  async function probeJoin(t: TenantDef, meetingPart: string, extra = ''): Promise<JoinProbe> {
    const fullName = `probe-${++probeSeq}`;
    const query = `fullName=${fullName}&${meetingPart}&role=VIEWER${extra}`;
    const res = await rawRequest(gw.url, { path: signedPath(t, 'join', query) });
    const probe: JoinProbe = { fullName, status: res.status, location: res.location, inside: [] };
    if (res.status === 302 && res.location?.startsWith(`${proxy.baseUrl}/`)) {
      probe.upstreamQuery = splitUrl(res.location.slice(proxy.baseUrl.length)).rawQuery;
      const upstream = await rawGetUrl(res.location);
      if (upstream.status === 302 && upstream.location?.includes('/html5client/join?')) {
        const client = await rawGetUrl(upstream.location);
        if (client.status === 200) {
          const r = (JSON.parse(client.text) as { response: { confname: string; externMeetingID: string } }).response;
          probe.landed = { name: r.confname, externMeetingID: r.externMeetingID };
        }
      }
    }
    probe.inside = simMeetings()
      .filter((m) => m.users?.some((u) => u.fullName === fullName))
      .map((m) => m.name);
    return probe;
  }

  /** The upstream meeting IDs named by the requests the proxy saw since `mark`. */
  function upstreamMeetingIDs(mark: number): string[] {
    return proxy.since(mark).flatMap((r) => {
      const id = parseForm(splitUrl(r.url).rawQuery).get('meetingID');
      return id === undefined ? [] : [id];
    });
  }
  const ownerOfUpstream = (upstreamID: string): string | undefined => {
    const m = simMeetings().find((x) => x.meetingID === upstreamID);
    return m ? ownerOf(m.name) : undefined;
  };

  beforeAll(async () => {
    pool = await startTestPool({
      servers: 1,
      capacity: 100_000,
      label: 'isolation',
      env: { AMPHI_JWT_SECRET: JWT_SECRET, AMPHI_MEETING_LIST_CACHE_MS: '0', ...RATE_LIMIT_ENV },
    });
    const { server } = pool.cluster.servers()[0]!;
    proxy = await startRecordingProxy(server.baseUrl);
    // The server is reached through the proxy, so every upstream call is on record.
    await pool.store.servers.add({ id: pool.serverIds[0]!, url: `${proxy.baseUrl}/bigbluebutton/api`, secret: server.secret, capacity: 100_000, health: 'online' });
    for (const t of TENANTS) {
      if (t.name !== 'default') await pool.store.tenants.put({ name: t.name, secrets: [t.secret], hostnames: [], settings: {} });
    }
    gw = await pool.startGateway();
    poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() });

    // 1. Every tenant creates the whole colliding set, with passwords of its own.
    for (const t of TENANTS) {
      for (const [i, id] of IDS.entries()) {
        const given = { attendeePW: `ap-${t.name}-${i}`, moderatorPW: `mp-${t.name}-${i}` };
        const outcome = await create(t, id, { passwords: given });
        firstCreates.push({ tenant: t.name, id, given, outcome });
        remember(t.name, id, outcome);
      }
    }
    // 2. Per (caller, victim): the victim creates `pa-…` (aliased by the caller) and `vo-…` (victim only).
    for (const { c, v } of PAIRS) {
      for (const local of [`pa-${c.name}-${v.name}`, `vo-${c.name}-${v.name}`]) {
        const { victimId } = aliasPair(c.name, v.name, local);
        remember(v.name, victimId, await create(v, victimId, { passwords: { attendeePW: `ap-${local}`, moderatorPW: `mp-${local}` } }));
      }
    }
    //    ...then the caller creates its alias of `pa-…` without passwords, as most LMSs do.
    for (const { c, v } of PAIRS) {
      const { callerId } = aliasPair(c.name, v.name, `pa-${c.name}-${v.name}`);
      const outcome = await create(c, callerId);
      aliasCreates.set(`${c.name}>${v.name}`, outcome);
      remember(c.name, callerId, outcome);
    }
    // 3. Recordings: each tenant records every REC_IDS meeting and 9 of its own, one user each, then ends them.
    for (const t of TENANTS) {
      const ids = [...REC_IDS, ...Array.from({ length: 9 }, (_, k) => `own-${t.name}-${k}`)];
      for (const [i, id] of ids.entries()) {
        remember(t.name, id, await create(t, id, { passwords: { attendeePW: `rap-${t.name}-${i}`, moderatorPW: `rmp-${t.name}-${i}` } }));
      }
      await seedUsers(t.name, ids);
      for (const id of ids) await clientOf(t).end(id).catch(() => undefined);
    }
    // 4. The meetings of the "running" tenants get a user; one poll describes them all.
    for (const t of TENANTS.filter((x) => x.running)) await seedUsers(t.name, [...own.get(t.name)!.keys()]);
    await poller.pollOnce();
  }, 180_000);

  afterAll(async () => {
    await pool?.close();
    await proxy?.close();
  });

  // ----------------------------------------------------------------------------------------------
  // Set-up outcomes: each tenant got its own meetings.

  describe('set-up', () => {
    for (const t of TENANTS) {
      it(`create: ${t.name} gets a FRESH meeting of its own for each of the ${IDS.length} colliding IDs`, () => {
        const bad: string[] = [];
        for (const c of firstCreates.filter((x) => x.tenant === t.name)) {
          if (!c.outcome.ok) bad.push(`${JSON.stringify(c.id)}: FAILED ${c.outcome.messageKey}`);
          else if (c.outcome.result.messageKey === 'duplicateWarning') bad.push(`${JSON.stringify(c.id)}: duplicateWarning (moderatorPW ${c.outcome.result.moderatorPW})`);
          else if (c.outcome.result.moderatorPW !== c.given.moderatorPW || c.outcome.result.attendeePW !== c.given.attendeePW) {
            bad.push(`${JSON.stringify(c.id)}: answered passwords ${c.outcome.result.attendeePW}/${c.outcome.result.moderatorPW}, not its own`);
          } else if (!same(c.outcome.result.meetingID, c.id)) bad.push(`${JSON.stringify(c.id)}: answered meetingID ${JSON.stringify(c.outcome.result.meetingID)}`);
        }
        expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
      });
    }

    it('every (tenant, ID) is a distinct meeting on the server, named by its creator', () => {
      const names = simMeetings().map((m) => m.name);
      const missing = TENANTS.flatMap((t) => IDS.map((id) => nameFor(t.name, id))).filter((n) => !names.includes(n));
      const doubled = names.filter((n, i) => names.indexOf(n) !== i);
      const upstream = simMeetings().map((m) => m.meetingID);
      const sharedUpstream = upstream.filter((u, i) => upstream.indexOf(u) !== i);
      expect({ missing, doubled, sharedUpstream }).toEqual({ missing: [], doubled: [], sharedUpstream: [] });
    });

    it('upstream meeting IDs follow the documented encoding (tenant~escaped, default escaped; % → %25, ~ → %7E)', () => {
      const wrong = simMeetings()
        .filter((m) => m.name.includes('|'))
        .filter((m) => m.meetingID !== documentedUpstream(ownerOf(m.name), localOf(m.name)))
        .map((m) => `${m.name} is ${JSON.stringify(m.meetingID)}, expected ${JSON.stringify(documentedUpstream(ownerOf(m.name), localOf(m.name)))}`);
      expect(wrong).toEqual([]);
    });

    for (const t of TENANTS) {
      it(`after a poll, ${t.name}'s getMeetingInfo answers each ID with that very meeting (IDs differing only in surrounding spaces included)`, async () => {
        const client = clientOf(t);
        const bad: string[] = [];
        for (const id of IDS) {
          const mine = own.get(t.name)!.get(id);
          const info = await client.getMeetingInfo(id).catch((e: unknown) => String(e));
          if (typeof info === 'string') bad.push(`${JSON.stringify(id)}: ${info}`);
          else if (mine && info.internalMeetingID !== mine.internalMeetingID) {
            const shown = simMeetings().find((m) => m.internalMeetingID === info.internalMeetingID);
            bad.push(`${JSON.stringify(id)}: shows ${shown ? JSON.stringify(shown.name) : info.internalMeetingID}`);
          }
        }
        expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
      });

      it(`recordings: ${t.name} produced a recording of each of its recorded meetings`, () => {
        const mine = simRecordings().filter((r) => ownerOf(r.name) === t.name).map((r) => localOf(r.name));
        const expected = [...REC_IDS, ...Array.from({ length: 9 }, (_, k) => `own-${t.name}-${k}`)];
        expect(expected.filter((id) => !mine.includes(id))).toEqual([]);
      });
    }
  });

  // ----------------------------------------------------------------------------------------------
  // The matrix: for each call, each caller against each victim.

  type Cell = (c: TenantDef, v: TenantDef, bad: string[]) => Promise<void>;

  /** IDs of IDS a caller works on against a victim, plus its alias of the victim's `pa-…` meeting. */
  const sharedTargets = (c: TenantDef, v: TenantDef): string[] => [...targetsIn(IDS, c.name, v.name), aliasPair(c.name, v.name, `pa-${c.name}-${v.name}`).callerId];
  /** The caller's spelling of the victim's `vo-…` meeting, which the caller never created. */
  const victimOnly = (c: TenantDef, v: TenantDef): { victimId: string; callerId: string } => aliasPair(c.name, v.name, `vo-${c.name}-${v.name}`);

  /**
   * A call the gateway forwards to the meeting's server (insertDocument, sendChatMessage): on
   * the IDs both tenants use it reaches the caller's own meeting, once; on an ID only the victim
   * has it is notFound and reaches no server.
   */
  async function expectForwardedToOwnOnly(c: TenantDef, v: TenantDef, bad: string[], send: (id: string) => Promise<RawResponse>): Promise<void> {
    for (const id of sharedTargets(c, v)) {
      const mark = proxy.log.length;
      const res = await send(id);
      const sent = upstreamMeetingIDs(mark);
      if (!res.text.includes('<returncode>SUCCESS</returncode>')) bad.push(`${JSON.stringify(id)}: ${res.text.replace(/\s+/g, ' ')}`);
      if (sent.length !== 1) bad.push(`${JSON.stringify(id)}: ${sent.length} upstream calls`);
      for (const u of sent) if (ownerOfUpstream(u) !== c.name) bad.push(`${JSON.stringify(id)}: sent to upstream ${JSON.stringify(u)} (${ownerOfUpstream(u) ?? 'no meeting'})`);
    }
    const { callerId } = victimOnly(c, v);
    const mark = proxy.log.length;
    const res = await send(callerId);
    if (!res.text.includes('<messageKey>notFound</messageKey>')) bad.push(`${JSON.stringify(callerId)} (only ${v.name} has it): ${res.text.replace(/\s+/g, ' ')}`);
    if (upstreamMeetingIDs(mark).length > 0) bad.push(`${JSON.stringify(callerId)} (only ${v.name} has it): sent upstream`);
  }

  const CELLS: [string, Cell][] = [
    [
      'isMeetingRunning',
      async (c, v, bad) => {
        const client = clientOf(c);
        for (const id of sharedTargets(c, v)) {
          const running = await client.isMeetingRunning(id);
          if (running !== c.running) bad.push(`${JSON.stringify(id)}: running=${running}, ${c.name}'s own meeting is ${c.running ? '' : 'not '}running`);
        }
        const { callerId } = victimOnly(c, v);
        if (await client.isMeetingRunning(callerId)) bad.push(`${JSON.stringify(callerId)} (only ${v.name} has it): running=true`);
      },
    ],
    [
      'getMeetingInfo',
      async (c, v, bad) => {
        const client = clientOf(c);
        const theirs = secretsOf(v.name);
        for (const id of sharedTargets(c, v)) {
          let info: MeetingInfo;
          try {
            info = await client.getMeetingInfo(id);
          } catch (err) {
            bad.push(`${JSON.stringify(id)}: ${(err as Error).message}`);
            continue;
          }
          if (!same(info.meetingName, nameFor(c.name, id))) bad.push(`${JSON.stringify(id)}: meetingName ${JSON.stringify(info.meetingName)}`);
          if (theirs.passwords.has(info.moderatorPW ?? '') || theirs.passwords.has(info.attendeePW ?? '')) bad.push(`${JSON.stringify(id)}: shows ${v.name}'s passwords`);
          if (theirs.internalIDs.has(info.internalMeetingID)) bad.push(`${JSON.stringify(id)}: shows ${v.name}'s internalMeetingID`);
          const mine = own.get(c.name)!.get(id);
          if (mine && info.internalMeetingID !== mine.internalMeetingID) {
            const shown = simMeetings().find((m) => m.internalMeetingID === info.internalMeetingID);
            bad.push(`${JSON.stringify(id)}: internalMeetingID is ${shown ? `that of ${JSON.stringify(shown.name)}` : 'unknown'}, not the caller's own`);
          }
          const strangers = info.attendees.filter((a) => !a.fullName.startsWith(`seed ${c.name} `) && !a.fullName.startsWith('probe-'));
          if (strangers.length > 0) bad.push(`${JSON.stringify(id)}: attendees ${strangers.map((a) => a.fullName).join(', ')}`);
          if (c.running && info.attendees.length === 0) bad.push(`${JSON.stringify(id)}: no attendee, though ${c.name}'s meeting has one`);
        }
        const { callerId } = victimOnly(c, v);
        const gone = await client.getMeetingInfo(callerId).then(
          (i) => `answered ${JSON.stringify(i.meetingName)}`,
          (e: unknown) => (e instanceof BbbClientError && e.messageKey === 'notFound' ? undefined : String(e)),
        );
        if (gone) bad.push(`${JSON.stringify(callerId)} (only ${v.name} has it): ${gone}`);
      },
    ],
    [
      'getMeetings',
      async (c, v, bad) => {
        const list = await clientOf(c).getMeetings();
        const theirs = secretsOf(v.name);
        for (const m of list) {
          if (ownerOf(m.meetingName) !== c.name) bad.push(`lists ${JSON.stringify(m.meetingName)} as ${JSON.stringify(m.meetingID)}`);
          if (theirs.passwords.has(m.moderatorPW ?? '') || theirs.passwords.has(m.attendeePW ?? '')) bad.push(`${JSON.stringify(m.meetingID)}: shows ${v.name}'s passwords`);
          if (theirs.internalIDs.has(m.internalMeetingID)) bad.push(`${JSON.stringify(m.meetingID)}: shows ${v.name}'s internalMeetingID`);
          if (ownerOf(m.meetingName) === c.name && !same(m.meetingID, localOf(m.meetingName))) bad.push(`${JSON.stringify(m.meetingName)} listed as ${JSON.stringify(m.meetingID)}`);
        }
        const listed = new Set(list.map((m) => m.meetingID.trim()));
        const missing = sharedTargets(c, v).filter((id) => !listed.has(id.trim()));
        if (missing.length > 0) bad.push(`own meetings missing from the list: ${JSON.stringify(missing)}`);
      },
    ],
    [
      'create',
      async (c, v, bad) => {
        // The alias of a victim meeting, created without passwords, is a fresh meeting of the caller.
        const { victimId, callerId } = aliasPair(c.name, v.name, `pa-${c.name}-${v.name}`);
        const victim = own.get(v.name)!.get(victimId);
        const alias = aliasCreates.get(`${c.name}>${v.name}`)!;
        if (!alias.ok) bad.push(`create ${JSON.stringify(callerId)}: FAILED ${alias.messageKey}`);
        else {
          const r = alias.result;
          if (r.messageKey === 'duplicateWarning') bad.push(`create ${JSON.stringify(callerId)}: duplicateWarning, moderatorPW ${r.moderatorPW}`);
          if (victim && (r.moderatorPW === victim.moderatorPW || r.attendeePW === victim.attendeePW)) bad.push(`create ${JSON.stringify(callerId)}: answered ${v.name}'s passwords`);
          if (victim && r.internalMeetingID === victim.internalMeetingID) bad.push(`create ${JSON.stringify(callerId)}: answered ${v.name}'s internalMeetingID`);
        }
        // A create again, without passwords, of every colliding ID answers the caller's own meeting.
        const theirs = secretsOf(v.name);
        for (const id of targetsIn(IDS, c.name, v.name)) {
          const again = await create(c, id);
          const mine = own.get(c.name)!.get(id);
          if (!again.ok) bad.push(`create again ${JSON.stringify(id)}: FAILED ${again.messageKey}`);
          else if (theirs.passwords.has(again.result.moderatorPW ?? '') || theirs.internalIDs.has(again.result.internalMeetingID)) {
            bad.push(`create again ${JSON.stringify(id)}: answered ${v.name}'s meeting (moderatorPW ${again.result.moderatorPW})`);
          } else if (mine && (again.result.moderatorPW !== mine.moderatorPW || again.result.internalMeetingID !== mine.internalMeetingID)) {
            bad.push(`create again ${JSON.stringify(id)}: not the caller's own meeting`);
          }
        }
      },
    ],
    [
      'join',
      async (c, v, bad) => {
        for (const id of sharedTargets(c, v)) {
          for (const spelled of spellings(id)) {
            const p = await probeJoin(c, `meetingID=${spelled}`);
            if (!p.landed) bad.push(`meetingID=${spelled}: did not land (HTTP ${p.status} ${p.location ?? ''})`);
            else if (p.landed.name !== nameFor(c.name, id)) bad.push(`meetingID=${spelled}: landed in ${JSON.stringify(p.landed.name)}`);
            for (const n of p.inside) if (ownerOf(n) !== c.name) bad.push(`meetingID=${spelled}: user inside ${JSON.stringify(n)}`);
          }
          // redirect=false: the server's XML answer names the meeting by its internal ID.
          const res = await rawRequest(gw.url, { path: signedPath(c, 'join', `fullName=xml-probe&meetingID=${encodeComponent(id)}&role=VIEWER&redirect=false`) });
          const internal = xmlText(res.text, 'meeting_id');
          const target = simMeetings().find((m) => m.internalMeetingID === internal);
          if (!target || ownerOf(target.name) !== c.name) bad.push(`redirect=false ${JSON.stringify(id)}: meeting_id ${internal} is ${target ? JSON.stringify(target.name) : 'unknown'}`);
        }
        const { callerId } = victimOnly(c, v);
        for (const spelled of spellings(callerId)) {
          const p = await probeJoin(c, `meetingID=${spelled}`);
          if (p.landed || p.inside.length > 0) bad.push(`meetingID=${spelled} (only ${v.name} has it): landed in ${JSON.stringify(p.landed?.name ?? p.inside)}`);
        }
      },
    ],
    [
      'insertDocument',
      async (c, v, bad) => {
        const body = '<modules><module name="presentation"><document url="https://example.org/a.pdf" filename="a.pdf"/></module></modules>';
        const send = (id: string) =>
          rawRequest(gw.url, { method: 'POST', path: signedPath(c, 'insertDocument', `meetingID=${encodeComponent(id)}`), body, headers: { 'content-type': 'application/xml' } });
        await expectForwardedToOwnOnly(c, v, bad, send);
      },
    ],
    [
      'sendChatMessage',
      async (c, v, bad) => {
        const send = (id: string) => rawRequest(gw.url, { path: signedPath(c, 'sendChatMessage', `meetingID=${encodeComponent(id)}&message=hello+from+${c.name}`) });
        await expectForwardedToOwnOnly(c, v, bad, send);
      },
    ],
    [
      'getRecordings',
      async (c, v, bad) => {
        const client = clientOf(c);
        const victimRecs = simRecordings().filter((r) => ownerOf(r.name) === v.name);
        const queries: [string, [string, string][]][] = [
          ['no filter', []],
          ['state=any', [['state', 'any']]],
          ...targetsIn(REC_IDS, c.name, v.name).map((id): [string, [string, string][]] => [`meetingID=${id}`, [['meetingID', id], ['state', 'any']]]),
          ['every REC_ID at once', [['meetingID', REC_IDS.filter((id) => !id.includes(',')).join(',')], ['state', 'any']]],
          ...victimRecs.slice(0, 6).map((r): [string, [string, string][]] => [`${v.name}'s recordID`, [['recordID', r.recordID], ['state', 'any']]]),
          ...victimRecs.slice(0, 3).map((r): [string, [string, string][]] => [`${v.name}'s recordID prefix`, [['recordID', r.recordID.slice(0, 12)], ['state', 'any']]]),
        ];
        if (victimRecs.length === 0) bad.push(`${v.name} has no recording to protect`);
        for (const [what, params] of queries) {
          const found = await client.getRecordings(params).catch((e: unknown) => {
            bad.push(`${what}: ${String(e)}`);
            return [] as Recording[];
          });
          for (const r of found) {
            if (ownerOf(r.name) !== c.name) bad.push(`${what}: returned ${JSON.stringify(r.name)} (${r.recordID})`);
            else if (!same(r.meetingID, localOf(r.name))) bad.push(`${what}: ${JSON.stringify(r.name)} listed as meetingID ${JSON.stringify(r.meetingID)}`);
          }
          if (what === 'state=any' && found.length === 0) bad.push('state=any: none of its own recordings');
        }
      },
    ],
  ];

  /** publish / update / delete: the victim's recordings, alone or next to one of the caller's own, never change. */
  type Mutation = 'publishRecordings' | 'updateRecordings' | 'deleteRecordings';
  const MUTATIONS: Mutation[] = ['publishRecordings', 'updateRecordings', 'deleteRecordings'];
  const snapshot = (t: string) =>
    new Map(simRecordings().filter((r) => ownerOf(r.name) === t).map((r) => [r.recordID, JSON.stringify({ state: r.state, published: r.published, metadata: r.metadata })]));

  for (const [k, mutation] of MUTATIONS.entries()) {
    CELLS.push([
      mutation,
      async (c, v, bad) => {
        const client = clientOf(c);
        const extra: [string, string][] = mutation === 'publishRecordings' ? [['publish', 'false']] : mutation === 'updateRecordings' ? [['meta_pwned', c.name]] : [];
        const before = snapshot(v.name);
        if (before.size === 0) bad.push(`${v.name} has no recording to protect`);
        const victimIds = [...before.keys()];
        for (const id of [...victimIds.slice(0, 6), ...victimIds.slice(0, 2).map((r) => r.slice(0, 12))]) {
          const outcome = await client.call(mutation, [['recordID', id], ...extra]).then(
            () => 'SUCCESS',
            (e: unknown) => (e instanceof BbbClientError ? (e.messageKey ?? e.kind) : String(e)),
          );
          if (outcome !== 'notFound') bad.push(`recordID=${id}: answered ${outcome}, expected notFound`);
        }
        // Next to one of its own: the call succeeds for the caller's recording only.
        const victimIndex = TENANTS.filter((t) => t !== c).indexOf(v);
        const ownName = nameFor(c.name, `own-${c.name}-${victimIndex * 3 + k}`);
        const mine = simRecordings().find((r) => r.name === ownName);
        if (!mine) bad.push(`no recording ${ownName}`);
        else {
          await client.call(mutation, [['recordID', [mine.recordID, ...victimIds].join(',')], ...extra]).catch((e: unknown) => bad.push(`own + ${v.name}'s: ${String(e)}`));
          const after = simRecordings().find((r) => r.recordID === mine.recordID)!;
          const changed =
            mutation === 'publishRecordings' ? !after.published : mutation === 'updateRecordings' ? after.metadata.pwned === c.name : after.state === 'deleted';
          if (!changed) bad.push(`its own recording ${ownName} did not change`);
        }
        const after = snapshot(v.name);
        for (const [id, state] of before) if (after.get(id) !== state) bad.push(`${v.name}'s recording ${id} changed: ${state} -> ${after.get(id)}`);
      },
    ]);
  }

  CELLS.push([
    'end',
    async (c, v, bad) => {
      // Fresh meetings for this cell only: the victim creates the colliding partners first (with
      // passwords), the caller then creates its own spellings without passwords and ends them.
      const base = `end${PAIRS.findIndex((p) => p.c === c && p.v === v)}`;
      const set = shapes(base);
      const callerIds = targetsIn(set, c.name, v.name);
      const victimIds = set.filter((y) => callerIds.some((x) => NAIVE.some((f) => f(c.name, x) === f(v.name, y))));
      const pa = aliasPair(c.name, v.name, `endpa-${base}`);
      const vo = aliasPair(c.name, v.name, `endvo-${base}`);
      victimIds.push(pa.victimId, vo.victimId);
      callerIds.push(pa.callerId);
      for (const [i, id] of victimIds.entries()) await create(v, id, { passwords: { attendeePW: `eap-${i}`, moderatorPW: `emp-${i}` }, record: false });
      for (const id of callerIds) await create(c, id, { record: false });
      await seedUsers(v.name, victimIds);
      const alive = (t: string, id: string): boolean => {
        const m = simByName(nameFor(t, id));
        return m !== undefined && !m.ended;
      };
      const victimAlive = victimIds.filter((id) => alive(v.name, id));
      if (victimAlive.length !== victimIds.length) bad.push(`set-up: ${v.name} meetings missing ${JSON.stringify(victimIds.filter((id) => !victimAlive.includes(id)))}`);
      const client = clientOf(c);
      for (const id of callerIds) {
        await client.end(id).catch((e: unknown) => bad.push(`end ${JSON.stringify(id)}: ${String(e)}`));
        if (alive(c.name, id)) bad.push(`end ${JSON.stringify(id)}: the caller's own meeting is still running`);
      }
      const voOutcome = await client.end(vo.callerId).then(
        () => 'SUCCESS',
        (e: unknown) => (e instanceof BbbClientError ? (e.messageKey ?? e.kind) : String(e)),
      );
      if (voOutcome !== 'notFound') bad.push(`end ${JSON.stringify(vo.callerId)} (only ${v.name} has it): ${voOutcome}`);
      for (const id of victimAlive) if (!alive(v.name, id)) bad.push(`${v.name}'s ${JSON.stringify(id)} was ended`);
    },
  ]);

  for (const [call, cell] of CELLS) {
    describe(call, () => {
      for (const { c, v } of PAIRS) {
        it(`${call}: ${c.name} against ${v.name}'s meetings`, async () => {
          const bad: string[] = [];
          await cell(c, v, bad);
          expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
        });
      }
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Join parameter-name smuggling: a second spelling of `meetingID` carries the victim's upstream ID.

  describe('join parameter-name smuggling', () => {
    const NAME_SPELLINGS = ['%6DeetingID', 'meeting%49D', 'meeting%00ID', 'meeting%7FID', 'meeting%1FID', pctAll('meetingID'), 'meetingID'];
    for (const { c, v } of PAIRS) {
      for (const spelled of NAME_SPELLINGS) {
        for (const order of ['own first', 'victim first'] as const) {
          it(`join: ${c.name} smuggles ${spelled}=<${v.name}'s room> (${order})`, async () => {
            // The victim's meeting `room` as the server knows it; the caller has a `room` too.
            const victimUpstream = simByName(nameFor(v.name, 'room'))?.meetingID ?? documentedUpstream(v.name, 'room');
            const mine = `meetingID=room`;
            const theirs = `${spelled}=${encodeComponent(victimUpstream)}`;
            const p = await probeJoin(c, order === 'own first' ? `${mine}&${theirs}` : `${theirs}&${mine}`);
            const where = { status: p.status, location: p.location?.slice(0, 300), landed: p.landed?.name, inside: p.inside };
            expect(p.landed === undefined || ownerOf(p.landed.name) === c.name, JSON.stringify(where)).toBe(true);
            expect(p.inside.filter((n) => ownerOf(n) !== c.name), JSON.stringify(where)).toEqual([]);
          });
        }
      }
    }
  });

  // ----------------------------------------------------------------------------------------------
  // After the matrix: each tenant still sees exactly its own.

  describe('afterwards', () => {
    for (const t of TENANTS) {
      it(`${t.name} still sees exactly its own meetings and recordings`, async () => {
        const client = clientOf(t);
        const bad: string[] = [];
        const meetings = await client.getMeetings();
        for (const m of meetings) if (ownerOf(m.meetingName) !== t.name || !same(m.meetingID, localOf(m.meetingName))) bad.push(`meeting ${JSON.stringify(m.meetingID)} is ${JSON.stringify(m.meetingName)}`);
        const listed = new Set(meetings.map((m) => m.meetingID.trim()));
        const missing = IDS.filter((id) => !listed.has(id.trim()));
        if (missing.length > 0) bad.push(`own meetings missing: ${JSON.stringify(missing)}`);
        const recordings = await client.getRecordings([['state', 'any']]);
        for (const r of recordings) if (ownerOf(r.name) !== t.name || !same(r.meetingID, localOf(r.name))) bad.push(`recording ${JSON.stringify(r.meetingID)} is ${JSON.stringify(r.name)}`);
        const expected = simRecordings().filter((r) => ownerOf(r.name) === t.name).map((r) => r.recordID).sort();
        const got = recordings.map((r) => r.recordID).sort();
        if (JSON.stringify(got) !== JSON.stringify(expected)) bad.push(`recordings ${got.length}, expected its ${expected.length}`);
        expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
      });
    }
  });

  // ----------------------------------------------------------------------------------------------
  // The admin API.

  describe('admin API', () => {
    const admin = (path: string, bearer: string | null = mintAdminToken(JWT_SECRET)): Promise<RawResponse> =>
      rawRequest(gw.url, { path, headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` } });

    it('GET /admin/meetings?tenant=X attributes every meeting to its real owner', async () => {
      await poller.pollOnce();
      const bad: string[] = [];
      const live = new Map(simMeetings().filter((m) => !m.ended).map((m) => [m.meetingID, m]));
      let checked = 0;
      for (const t of TENANTS) {
        const res = await admin(`/admin/meetings?tenant=${t.name}`);
        expect(res.status, res.text).toBe(200);
        const rows = JSON.parse(res.text) as { tenant: string; meetingID: string; upstreamID: string }[];
        for (const row of rows) {
          if (row.tenant !== t.name) bad.push(`?tenant=${t.name} lists a ${row.tenant} meeting ${JSON.stringify(row.meetingID)}`);
          const m = live.get(row.upstreamID);
          if (!m) continue;
          checked++;
          if (m.name !== nameFor(row.tenant, row.meetingID)) bad.push(`${row.tenant}:${JSON.stringify(row.meetingID)} (upstream ${JSON.stringify(row.upstreamID)}) is ${JSON.stringify(m.name)}`);
        }
        const listed = new Set(rows.map((r) => r.meetingID));
        const missing = IDS.filter((id) => !listed.has(id));
        if (missing.length > 0) bad.push(`?tenant=${t.name} misses ${JSON.stringify(missing)}`);
      }
      const all = JSON.parse((await admin('/admin/meetings')).text) as { tenant: string; meetingID: string; upstreamID: string }[];
      for (const row of all) {
        const m = live.get(row.upstreamID);
        if (m && m.name !== nameFor(row.tenant, row.meetingID)) bad.push(`(all) ${row.tenant}:${JSON.stringify(row.meetingID)} is ${JSON.stringify(m.name)}`);
      }
      expect(checked).toBeGreaterThan(IDS.length * TENANTS.length - 1);
      expect(bad, `${bad.length} problem(s): ${bad.join(" | ").slice(0, 1500)}`).toEqual([]);
    });

    const forge = (secret: string, claims: object, alg = 'HS256'): string => {
      const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const sig = alg === 'none' ? '' : createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
      return `${head}.${body}.${sig}`;
    };
    const now = Math.floor(Date.now() / 1000);
    // Everything an admin token needs but the key (issuer and audience are the defaults).
    const claims = { sub: 'x', scope: 'amphi:admin', iss: 'amphi', aud: 'amphi-admin', iat: now, exp: now + 600, jti: 'x' };

    it('a valid admin token works, and so does the same forged token signed with AMPHI_JWT_SECRET (controls)', async () => {
      expect((await admin('/admin/tenants')).status).toBe(200);
      expect((await admin('/admin/tenants', forge(JWT_SECRET, claims))).status).toBe(200);
    });
    for (const t of TENANTS) {
      it(`${t.name}'s BBB secret is no admin credential`, async () => {
        const tries: [string, Promise<RawResponse>][] = [
          ['secret as bearer', admin('/admin/meetings', t.secret)],
          ['HS256 JWT signed with the secret', admin('/admin/meetings', forge(t.secret, claims))],
          ['alg=none JWT', admin('/admin/meetings', forge(t.secret, claims, 'none'))],
          ['BBB checksum', admin(`/admin/meetings?checksum=${computeChecksum('meetings', '', t.secret)}`, null)],
          ['BBB checksum as bearer', admin('/admin/meetings', computeChecksum('getMeetings', '', t.secret))],
          ['sha1 of the secret as bearer', admin('/admin/meetings', createHash('sha1').update(t.secret).digest('hex'))],
        ];
        const got: Record<string, number> = {};
        for (const [what, p] of tries) got[what] = (await p).status;
        expect(got).toEqual(Object.fromEntries(tries.map(([what]) => [what, 401])));
      });
    }
  });
});

// ------------------------------------------------------------------------------------------------

describe('a tenant added after the fact does not take over default-tenant meetings named like it', () => {
  let pool: TestPool;
  let gw: TestGateway;
  let poller: Poller;
  const NEWCO_SECRET = 'newco-bbb-secret-0123456789abcdef';
  const token = () => mintAdminToken(JWT_SECRET);
  const sim = () => pool.cluster.servers()[0]!.server;
  const byName = (name: string) => sim().state(true).meetings.find((m) => m.name === name);
  let newco: BbbClient;

  beforeAll(async () => {
    pool = await startTestPool({ servers: 1, label: 'newco', env: { AMPHI_JWT_SECRET: JWT_SECRET, AMPHI_MEETING_LIST_CACHE_MS: '0', ...RATE_LIMIT_ENV } });
    gw = await pool.startGateway();
    poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() });
    for (const id of ['newco~aa', 'newco~bb', 'newco~rec', 'newco~~cc', 'newco']) {
      await gw.client.create([['meetingID', id], ['name', `default|${id}`], ['attendeePW', 'dap'], ['moderatorPW', 'dmp'], ['record', 'true']]);
      sim().addUsers(byName(`default|${id}`)!.meetingID, { count: 1, fullName: 'seed default' });
    }
    await gw.client.end('newco~rec');
    await poller.pollOnce();
    const res = await rawRequest(gw.url, {
      method: 'POST',
      path: '/admin/tenants',
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'newco', secrets: [NEWCO_SECRET] }),
    });
    if (res.status !== 201) throw new Error(`adding tenant newco: ${res.status} ${res.text}`);
    newco = gw.clientFor('/t/newco', NEWCO_SECRET);
  }, 60_000);
  afterAll(() => pool?.close());

  async function checks(): Promise<string[]> {
    const bad: string[] = [];
    const rows = (q: string) =>
      rawRequest(gw.url, { path: `/admin/meetings${q}`, headers: { authorization: `Bearer ${token()}` } }).then((r) => JSON.parse(r.text) as { tenant: string; meetingID: string }[]);
    const newcoRows = await rows('?tenant=newco');
    if (newcoRows.length > 0) bad.push(`admin ?tenant=newco: ${JSON.stringify(newcoRows.map((r) => r.meetingID))}`);
    const defaultIds = (await rows('?tenant=default')).map((r) => r.meetingID);
    for (const id of ['newco~aa', 'newco~bb', 'newco~~cc', 'newco']) if (!defaultIds.includes(id)) bad.push(`admin ?tenant=default lost ${id}`);
    const listed = await newco.getMeetings();
    if (listed.length > 0) bad.push(`newco getMeetings: ${JSON.stringify(listed.map((m) => m.meetingName))}`);
    for (const id of ['aa', 'bb', '~cc', 'rec']) {
      const info = await newco.getMeetingInfo(id).then((i) => i.meetingName, () => undefined);
      if (info !== undefined) bad.push(`newco getMeetingInfo(${id}) = ${info}`);
      if (await newco.isMeetingRunning(id)) bad.push(`newco isMeetingRunning(${id}) = true`);
    }
    const join = await rawRequest(gw.url, { path: signedPath({ name: 'newco', prefix: '/t/newco', secret: NEWCO_SECRET, running: false }, 'join', 'fullName=newco-spy&meetingID=bb&role=MODERATOR') });
    if (join.status === 302 && join.location?.startsWith(sim().baseUrl)) {
      const up = await rawGetUrl(join.location);
      if (up.status === 302 && up.location?.includes('/html5client/')) await rawGetUrl(up.location);
    }
    const spy = sim().state(true).meetings.filter((m) => m.users?.some((u) => u.fullName === 'newco-spy'));
    if (spy.length > 0) bad.push(`newco's join of "bb" landed in ${spy.map((m) => m.name).join(', ')}`);
    const recs = await newco.getRecordings([['state', 'any']]);
    if (recs.length > 0) bad.push(`newco getRecordings: ${JSON.stringify(recs.map((r) => r.name))}`);
    const theirs = sim().model.recordings.find({ states: ['any'] });
    for (const r of theirs) {
      const outcome = await newco.call('deleteRecordings', [['recordID', r.recordID]]).then(() => 'SUCCESS', (e: unknown) => (e as BbbClientError).messageKey);
      if (outcome !== 'notFound') bad.push(`newco deleteRecordings(${r.name}): ${outcome}`);
    }
    const ended = await newco.end('aa').then(() => 'SUCCESS', (e: unknown) => (e as BbbClientError).messageKey);
    if (ended !== 'notFound') bad.push(`newco end(aa): ${ended}`);
    for (const id of ['newco~aa', 'newco~bb']) if (!byName(`default|${id}`) || byName(`default|${id}`)!.ended) bad.push(`default's ${id} is gone`);
    const defaultRecs = (await gw.client.getRecordings([['state', 'any']])).map((r) => r.meetingID);
    if (!defaultRecs.includes('newco~rec')) bad.push(`default's recordings lost newco~rec: ${JSON.stringify(defaultRecs)}`);
    if ((await gw.client.getMeetingInfo('newco~aa').catch(() => undefined))?.meetingName !== 'default|newco~aa') bad.push(`default's getMeetingInfo(newco~aa) changed`);
    return bad;
  }

  it('right after the tenant is added', async () => {
    expect(await checks()).toEqual([]);
  });

  it('after a poll round', async () => {
    await poller.pollOnce();
    expect(await checks()).toEqual([]);
  });

  it('a create by the new tenant is a fresh meeting of its own', async () => {
    const r = await newco.create([['meetingID', 'aa'], ['name', 'newco|aa']]);
    expect(r.messageKey).not.toBe('duplicateWarning');
    expect([r.attendeePW, r.moderatorPW]).not.toContain('dmp');
    expect(byName('default|newco~aa')?.ended).toBe(false);
    expect(byName('newco|aa')).toBeDefined();
  });
});
