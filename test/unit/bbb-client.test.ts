import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BbbClient, BbbClientError, sharedAgent } from '../../src/bbb/client.js';
import type { BbbClientErrorKind } from '../../src/bbb/client.js';
import { ALL_ALGORITHMS, algorithmForChecksum, verifyChecksum } from '../../src/bbb/checksum.js';
import { API_PREFIX, callNameOf, parseForm, splitUrl } from '../../src/bbb/request.js';
import { fixture } from '../helpers/fixtures.js';

const SECRET = 'test-secret-8f4e2a';

/** What the fake BBB server saw of one request (after verifying its checksum). */
interface Seen {
  method: string;
  path: string;
  callName: string;
  rawQuery: string;
  params: Map<string, string>;
  /** Param names in the order they were sent (parseForm drops repeats). */
  order: string[];
  checksumOk: boolean;
  algorithm?: string;
  contentType?: string;
  body: string;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

interface FakeBbb {
  apiUrl: string;
  seen: Seen[];
  connections: number;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function xml(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=utf-8', 'cache-control': 'no-cache' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A tiny BBB stand-in on 127.0.0.1: verifies every checksum like bbb-web does and answers
 * checksumError when it does not match; otherwise the handler answers.
 */
async function fakeBbb(handler: Handler): Promise<FakeBbb> {
  const state: FakeBbb = { apiUrl: '', seen: [], connections: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      const { path, rawQuery } = splitUrl(req.url ?? '');
      const params = parseForm(rawQuery);
      const verdict = verifyChecksum({
        callName: callNameOf(path) ?? '<not api>',
        rawQuery,
        checksum: params.get('checksum'),
        secrets: [SECRET],
        allowed: ALL_ALGORITHMS,
      });
      const seen: Seen = {
        method: req.method ?? '',
        path,
        callName: callNameOf(path) ?? '<not api>',
        rawQuery,
        params,
        order: rawQuery.split('&').map((part) => decodeURIComponent(part.split('=')[0] ?? '')),
        checksumOk: verdict.ok,
        body: await readBody(req),
      };
      if (verdict.ok) seen.algorithm = verdict.algorithm;
      if (req.headers['content-type'] !== undefined) seen.contentType = req.headers['content-type'];
      state.seen.push(seen);
      if (!verdict.ok) return xml(res, fixture('failed-checksumError.xml'));
      handler(seen, res);
    })();
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.apiUrl = `http://127.0.0.1:${port}${API_PREFIX}`;
  return state;
}

/** Answers a fixture per call name. */
function byCall(answers: Record<string, string>): Handler {
  return (seen, res) => {
    const name = answers[seen.callName];
    if (name === undefined) return xml(res, fixture('failed-validationError-request-not-recognized.xml'));
    xml(res, fixture(name));
  };
}

async function expectKind(promise: Promise<unknown>, kind: BbbClientErrorKind): Promise<BbbClientError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BbbClientError);
  const clientError = err as BbbClientError;
  expect(clientError.kind).toBe(kind);
  return clientError;
}

describe('BbbClient.url', () => {
  it('encodes keys and values with encodeURIComponent, keeps order and signs with sha1 by default', () => {
    const client = new BbbClient({ apiUrl: 'https://bbb.example.com/bigbluebutton/api/', secret: SECRET });
    const query = 'name=Test%20Meeting&meetingID=abc%2F1&meta_bbb-origin=Gr%C3%BCnlight';
    const checksum = createHash('sha1').update(`create${query}${SECRET}`).digest('hex');
    expect(
      client.url('create', [
        ['name', 'Test Meeting'],
        ['meetingID', 'abc/1'],
        ['meta_bbb-origin', 'Grünlight'],
      ]),
    ).toBe(`https://bbb.example.com/bigbluebutton/api/create?${query}&checksum=${checksum}`);
  });

  it("also escapes !'()* so that URL parsing cannot change the signed bytes", () => {
    const client = new BbbClient({ apiUrl: 'https://h/bigbluebutton/api', secret: SECRET });
    const url = client.url('create', { name: "Anton G's (1)! *~" });
    expect(url).toMatch(/\?name=Anton%20G%27s%20%281%29%21%20%2A~&checksum=[0-9a-f]{40}$/);
    // What undici sends is what was signed.
    expect(new URL(url).href).toBe(url);
  });

  it('accepts a record and an empty parameter list, and uses the configured algorithm', () => {
    const client = new BbbClient({ apiUrl: 'https://h/bigbluebutton/api', secret: SECRET, algorithm: 'sha256' });
    const info = createHash('sha256').update(`getMeetingInfomeetingID=m%201${SECRET}`).digest('hex');
    expect(client.url('getMeetingInfo', { meetingID: 'm 1' })).toBe(
      `https://h/bigbluebutton/api/getMeetingInfo?meetingID=m%201&checksum=${info}`,
    );
    const empty = createHash('sha256').update(`getMeetings${SECRET}`).digest('hex');
    expect(client.url('getMeetings', [])).toBe(`https://h/bigbluebutton/api/getMeetings?checksum=${empty}`);
  });

  it('rejects an apiUrl that is not a URL at construction', () => {
    expect(() => new BbbClient({ apiUrl: 'bbb1/bigbluebutton/api', secret: SECRET })).toThrow();
  });
});

describe('BbbClient calls against a local BBB stand-in', () => {
  it('index(): signs with callName "" and parses the version', async () => {
    const bbb = await fakeBbb(byCall({ '': 'api-version-index.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const version = await client.index();
    expect(version.apiVersion).toBe('2.0');
    expect(version.graphqlWebsocketUrl).toBe('wss://bbb.example.com/graphql');
    expect(bbb.seen[0]).toMatchObject({ callName: '', checksumOk: true, method: 'GET' });
  });

  it('getMeetingInfo(): checksum verifies (sha1 by default) and the answer is parsed', async () => {
    const bbb = await fakeBbb(byCall({ getMeetingInfo: 'get-meeting-info-success.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const info = await client.getMeetingInfo('gbesu6dht08uobpislzqxsizjzihn87cmewqyacs');
    expect(info.meetingName).toBe("Anton G's Room");
    expect(info.participantCount).toBe(2);
    expect(info.attendees.map((a) => a.userID)).toEqual(['w_ftcrsyuh44oj', 'student-42']);
    expect(info.metadata['bbb-origin']).toBe('greenlight');
    const seen = bbb.seen[0]!;
    expect(seen.checksumOk).toBe(true);
    expect(seen.algorithm).toBe('sha1');
    expect(seen.params.get('meetingID')).toBe('gbesu6dht08uobpislzqxsizjzihn87cmewqyacs');
  });

  it.each(['sha256', 'sha512'] as const)('signs with %s when configured', async (algorithm) => {
    const bbb = await fakeBbb(byCall({ isMeetingRunning: 'is-meeting-running-true.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, algorithm });
    expect(await client.isMeetingRunning('m1')).toBe(true);
    expect(bbb.seen[0]!.algorithm).toBe(algorithm);
    expect(algorithmForChecksum(bbb.seen[0]!.params.get('checksum')!)).toBe(algorithm);
  });

  it('create(): special characters survive the round trip in order, and the result is typed', async () => {
    const bbb = await fakeBbb(byCall({ create: 'create-success.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const params: Array<[string, string]> = [
      ['name', 'Ünïcode & Co = 100%+ ~*\'()!'],
      ['meetingID', 'random-1730297'],
      ['meta_bbb-origin', 'greenlight'],
      ['welcome', '<b>hi</b> #1?/&x=y'],
    ];
    const result = await client.create(params);
    expect(result).toMatchObject({
      meetingID: 'random-1730297',
      internalMeetingID: 'e2423c8ce6a4f724a3d3528574397badbb97ef77-1715261728123',
      createTime: 1715261728123,
      messageKey: '',
    });
    const seen = bbb.seen[0]!;
    expect(seen.checksumOk).toBe(true);
    expect(seen.order).toEqual(['name', 'meetingID', 'meta_bbb-origin', 'welcome', 'checksum']);
    for (const [key, value] of params) expect(seen.params.get(key)).toBe(value);
  });

  it('create(): a duplicateWarning is a success carrying its messageKey', async () => {
    const bbb = await fakeBbb(byCall({ create: 'create-duplicate-warning.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const result = await client.create({ name: 'x', meetingID: 'random-1730297' });
    expect(result.messageKey).toBe('duplicateWarning');
    expect(result.hasUserJoined).toBe(true);
  });

  it('getMeetings(): lists meetings, and noMeetings gives []', async () => {
    let answer = 'get-meetings-success.xml';
    const bbb = await fakeBbb((_seen, res) => xml(res, fixture(answer)));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const meetings = await client.getMeetings();
    expect(meetings.map((m) => [m.meetingID, m.createTime, m.isBreakout])).toEqual([['Demo Meeting', 1531241258036, false]]);
    answer = 'get-meetings-no-meetings.xml';
    expect(await client.getMeetings()).toEqual([]);
    expect(bbb.seen.map((s) => [s.callName, s.rawQuery.startsWith('checksum='), s.checksumOk])).toEqual([
      ['getMeetings', true, true],
      ['getMeetings', true, true],
    ]);
  });

  it('isMeetingRunning(): false answer', async () => {
    const bbb = await fakeBbb(byCall({ isMeetingRunning: 'is-meeting-running-false.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    expect(await client.isMeetingRunning('unknown')).toBe(false);
  });

  it('end(): sends the password only when given and returns the message', async () => {
    const bbb = await fakeBbb(byCall({ end: 'end-success.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const message = await client.end('m1', 'mp');
    expect(message.messageKey).toBe('sentEndMeetingRequest');
    await client.end('m2');
    expect(bbb.seen.map((s) => Object.fromEntries([...s.params].filter(([k]) => k !== 'checksum')))).toEqual([
      { meetingID: 'm1', password: 'mp' },
      { meetingID: 'm2' },
    ]);
  });

  it('join(): forces redirect=false (replacing a given redirect) and parses the XML', async () => {
    const bbb = await fakeBbb(byCall({ join: 'join-success-redirect-false.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const result = await client.join([
      ['fullName', 'Mary Sue'],
      ['meetingID', 'm1'],
      ['redirect', 'true'],
      ['role', 'VIEWER'],
    ]);
    expect(result.sessionToken).toBe('ai1wqj8wb6s7rnk0');
    expect(result.guestStatus).toBe('ALLOW');
    const seen = bbb.seen[0]!;
    expect(seen.checksumOk).toBe(true);
    expect(seen.order).toEqual(['fullName', 'meetingID', 'role', 'redirect', 'checksum']);
    expect(seen.params.get('redirect')).toBe('false');
  });

  it('joinUrl(): signs without sending anything', async () => {
    const bbb = await fakeBbb(byCall({}));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const url = client.joinUrl({ fullName: 'A B', meetingID: 'm1', role: 'MODERATOR' });
    expect(bbb.seen).toEqual([]);
    const { path, rawQuery } = splitUrl(new URL(url).pathname + new URL(url).search);
    expect(path).toBe(`${API_PREFIX}/join`);
    const verdict = verifyChecksum({
      callName: 'join',
      rawQuery,
      checksum: parseForm(rawQuery).get('checksum'),
      secrets: [SECRET],
      allowed: ['sha1'],
    });
    expect(verdict.ok).toBe(true);
    expect(rawQuery).toMatch(/^fullName=A%20B&meetingID=m1&role=MODERATOR&checksum=[0-9a-f]{40}$/);
  });

  it('getRecordings() and the recording mutations', async () => {
    const bbb = await fakeBbb(
      byCall({
        getRecordings: 'get-recordings-docs-example.xml',
        publishRecordings: 'publish-recordings-success.xml',
        deleteRecordings: 'delete-recordings-success.xml',
        updateRecordings: 'update-recordings-success.xml',
      }),
    );
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const recordings = await client.getRecordings({ meetingID: 'c637ba21adcd0191f48f5c4bf23fab0f96ed5c18' });
    expect(recordings.map((r) => [r.recordID, r.participants, r.formats.length])).toEqual([
      ['ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124', 3, 2],
    ]);
    expect(await client.publishRecordings('r1,r2', false)).toBe(true);
    expect(await client.deleteRecordings('r1')).toBe(true);
    expect(await client.updateRecordings('r1', { 'gl-listed': 'true', meta_name: 'x' })).toBe(true);
    expect(bbb.seen.every((s) => s.checksumOk)).toBe(true);
    const params = bbb.seen.map((s) => Object.fromEntries([...s.params].filter(([k]) => k !== 'checksum')));
    expect(params.slice(1)).toEqual([
      { recordID: 'r1,r2', publish: 'false' },
      { recordID: 'r1' },
      { recordID: 'r1', 'meta_gl-listed': 'true', meta_name: 'x' },
    ]);
  });

  it('getRecordings(): noRecordings gives []', async () => {
    const bbb = await fakeBbb(byCall({ getRecordings: 'get-recordings-no-recordings.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    expect(await client.getRecordings()).toEqual([]);
  });

  it('call() with POST and a body: the body is sent, the checksum covers the query', async () => {
    const bbb = await fakeBbb(byCall({ create: 'create-success.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const modules = '<modules><module name="presentation"><document url="https://x/y.pdf"/></module></modules>';
    await client.create({ name: 'n', meetingID: 'random-1730297' }, { method: 'POST', body: modules });
    expect(bbb.seen[0]).toMatchObject({ method: 'POST', checksumOk: true, body: modules, contentType: 'application/xml' });
  });
});

describe('BbbClient failure classification', () => {
  it("a FAILED answer → kind 'failed' with messageKey, message and the server in the text", async () => {
    const bbb = await fakeBbb(byCall({ getMeetingInfo: 'failed-notFound.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const err = await expectKind(client.getMeetingInfo('nope'), 'failed');
    expect(err.messageKey).toBe('notFound');
    expect(err.bbbMessage).toBe('A meeting with that ID does not exist');
    expect(err.server).toBe(bbb.apiUrl);
    expect(err.callName).toBe('getMeetingInfo');
    expect(err.message).toContain(bbb.apiUrl);
    expect(err.status).toBeUndefined();
  });

  it("a wrong secret is rejected by the server's checksum check → 'failed' checksumError", async () => {
    const bbb = await fakeBbb(byCall({ getMeetings: 'get-meetings-success.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: 'not-the-secret' });
    const err = await expectKind(client.getMeetings(), 'failed');
    expect(err.messageKey).toBe('checksumError');
    expect(bbb.seen[0]!.checksumOk).toBe(false);
  });

  it("the api-errors list form → 'failed' with the first error's key", async () => {
    const bbb = await fakeBbb(byCall({ create: 'create-failed-nonUniqueVoiceBridge.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const err = await expectKind(client.create({ name: 'n', meetingID: 'm' }), 'failed');
    expect(err.messageKey).toBe('nonUniqueVoiceBridge');
  });

  it("HTTP 500 → kind 'http' with the status", async () => {
    const bbb = await fakeBbb((_seen, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body>Internal Server Error</body></html>');
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const err = await expectKind(client.getMeetings(), 'http');
    expect(err.status).toBe(500);
    expect(err.message).toContain(bbb.apiUrl);
  });

  it("a 302 (join without redirect=false through call()) → kind 'http' 302", async () => {
    const bbb = await fakeBbb((_seen, res) => {
      res.writeHead(302, { location: 'https://bbb.example.com/html5client/join?sessionToken=x' });
      res.end();
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const err = await expectKind(client.call('join', { fullName: 'a', meetingID: 'm', role: 'VIEWER' }), 'http');
    expect(err.status).toBe(302);
  });

  it.each([
    ['plain text', 'upstream connect error'],
    ['truncated XML', '<response><returncode>SUCCESS</returncode><meetings>'],
    ['XML without <response>', '<html><body>maintenance</body></html>'],
    ['a response without returncode', '<response><meetings/></response>'],
  ])("%s → kind 'malformed'", async (_label, body) => {
    const bbb = await fakeBbb((_seen, res) => xml(res, body));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    await expectKind(client.getMeetings(), 'malformed');
  });

  it("a SUCCESS answer missing the fields of its call → kind 'malformed'", async () => {
    const bbb = await fakeBbb(byCall({ getMeetingInfo: 'is-meeting-running-true.xml' }));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const err = await expectKind(client.getMeetingInfo('m1'), 'malformed');
    expect(err.message).toContain('meetingID');
  });

  it("an answer over maxBodyBytes → kind 'malformed'", async () => {
    const bbb = await fakeBbb((_seen, res) => xml(res, `<response>${'x'.repeat(5000)}</response>`));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, maxBodyBytes: 1024 });
    const err = await expectKind(client.getMeetings(), 'malformed');
    expect(err.message).toContain('1024');
  });

  it("a server that never answers → kind 'timeout' within the configured timeout", async () => {
    const bbb = await fakeBbb(() => {
      // Never respond.
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, timeoutMs: 200 });
    const started = performance.now();
    const err = await expectKind(client.getMeetings(), 'timeout');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1500);
    expect(err.message).toContain('200 ms');
    expect(bbb.seen).toHaveLength(1);
  });

  it("a server that stalls mid-body → kind 'timeout'; the per-call timeout overrides the default", async () => {
    const bbb = await fakeBbb((_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write('<response>\n<returncode>SUCCESS</returncode>\n');
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, timeoutMs: 30_000 });
    const started = performance.now();
    await expectKind(client.call('getMeetings', [], { timeoutMs: 200 }), 'timeout');
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("callRaw() classifies a hang as 'timeout' too", async () => {
    const bbb = await fakeBbb(() => {});
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, timeoutMs: 200 });
    await expectKind(client.callRaw('getMeetings'), 'timeout');
  });

  it("a closed port → kind 'refused'", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new BbbClient({ apiUrl: `http://127.0.0.1:${port}/bigbluebutton/api`, secret: SECRET });
    const err = await expectKind(client.getMeetings(), 'refused');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    await expectKind(client.callRaw('getMeetings'), 'refused');
  });

  it("a connection reset before any answer → kind 'network'", async () => {
    const bbb = await fakeBbb((_seen, res) => {
      res.socket?.destroy();
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    await expectKind(client.getMeetings(), 'network');
  });
});

describe('BbbClient.callRaw', () => {
  it('returns status, headers and body untouched, FAILED and HTTP errors included', async () => {
    let status = 200;
    const bbb = await fakeBbb((_seen, res) => xml(res, fixture('failed-notFound.xml'), status));
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const failed = await client.callRaw('getMeetingInfo', { meetingID: 'x' });
    expect(failed.status).toBe(200);
    expect(failed.body).toBe(fixture('failed-notFound.xml'));
    expect(failed.headers['content-type']).toBe('text/xml;charset=utf-8');
    expect(failed.headers['cache-control']).toBe('no-cache');
    status = 503;
    expect((await client.callRaw('getMeetingInfo', { meetingID: 'x' })).status).toBe(503);
  });
});

describe('BbbClient connection reuse', () => {
  it('20 sequential calls on the shared agent use one keep-alive connection, error answers included', async () => {
    let n = 0;
    const bbb = await fakeBbb((_seen, res) => {
      n += 1;
      if (n % 5 === 0) {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(`<html>${'e'.repeat(2000)}</html>`);
      } else if (n % 3 === 0) {
        xml(res, fixture('failed-notFound.xml'));
      } else {
        xml(res, fixture('get-meetings-success.xml'));
      }
    });
    const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET });
    const kinds: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      try {
        await client.getMeetings();
        kinds.push('ok');
      } catch (err) {
        kinds.push((err as BbbClientError).kind);
      }
    }
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(11);
    expect(kinds.filter((k) => k === 'http')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'failed')).toHaveLength(5);
    expect(bbb.seen).toHaveLength(20);
    expect(bbb.connections).toBeLessThanOrEqual(2);
  });

  it('clients of different servers share the module-level agent by default', async () => {
    const a = await fakeBbb(byCall({ isMeetingRunning: 'is-meeting-running-true.xml' }));
    const b = await fakeBbb(byCall({ isMeetingRunning: 'is-meeting-running-false.xml' }));
    const clientA = new BbbClient({ apiUrl: a.apiUrl, secret: SECRET });
    const clientB = new BbbClient({ apiUrl: b.apiUrl, secret: SECRET });
    for (let i = 0; i < 5; i += 1) {
      expect(await clientA.isMeetingRunning('m')).toBe(true);
      expect(await clientB.isMeetingRunning('m')).toBe(false);
    }
    expect([a.connections, b.connections]).toEqual([1, 1]);
    const origins = Object.keys(sharedAgent.stats);
    expect(origins).toContain(new URL(a.apiUrl).origin);
    expect(origins).toContain(new URL(b.apiUrl).origin);
  });

  it('a given dispatcher replaces the shared agent', async () => {
    const bbb = await fakeBbb(byCall({ isMeetingRunning: 'is-meeting-running-true.xml' }));
    const own = new Agent({ connections: 1 });
    try {
      const client = new BbbClient({ apiUrl: bbb.apiUrl, secret: SECRET, dispatcher: own });
      expect(await client.isMeetingRunning('m')).toBe(true);
      expect(Object.keys(own.stats)).toEqual([new URL(bbb.apiUrl).origin]);
      expect(Object.keys(sharedAgent.stats)).not.toContain(new URL(bbb.apiUrl).origin);
    } finally {
      await own.close();
    }
  });
});
