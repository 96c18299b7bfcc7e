import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { buildApp } from '../../src/api/app.js';
import { registerJoinLinks } from '../../src/api/links/routes.js';
import { loadSettings } from '../../src/config/settings.js';
import { createRedis } from '../../src/redis/connect.js';
import { newLinkId } from '../../src/rooms/ids.js';
import { linkKey, signLinkToken } from '../../src/rooms/link-token.js';
import { RoomMeetings } from '../../src/rooms/room-meetings.js';
import { Store } from '../../src/state/store.js';
import { GATEWAY_SECRET } from '../helpers/gateway.js';
import { LINK_JWT_SECRET } from '../helpers/join-links.js';
import { MESSAGES } from '../../src/api/links/messages.js';
import { escapeHtml, PAGE_CSS_HASH } from '../../src/api/links/page.js';
import { roomMeetingId } from '../../src/rooms/types.js';
import { startLinkGateway, type LinkGateway } from '../helpers/join-links.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

async function post(url: string, body: string, headers: Record<string, string> = FORM) {
  const res = await request(url, { method: 'POST', body, headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** Follows the gateway's 303 as a browser does, to the simulated BBB client's answer. */
async function enter(location: string): Promise<{ url: string; body: Record<string, unknown> }> {
  let url = location;
  for (let hop = 0; hop < 4; hop++) {
    const res = await request(url);
    if (res.statusCode !== 302) {
      const json = (await res.body.json()) as { response: Record<string, unknown> };
      return { url, body: json.response };
    }
    await res.body.dump();
    url = new URL(String(res.headers.location), url).href;
  }
  throw new Error('too many redirects');
}

/** A page of ours: HTML with the security headers, never JSON, never a stack. */
function expectPage(res: { headers: Record<string, unknown>; body: string }, lang: 'fr' | 'en') {
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(String(res.headers['content-security-policy'])).toMatch(/^default-src 'none'; .*frame-ancestors 'self'/);
  expect(res.body).toContain(`<html lang="${lang}">`);
  expect(res.body).not.toMatch(/"statusCode"|\bat .*\.(ts|js):\d+/);
}

function expectRefusal(res: { status: number; headers: Record<string, unknown>; body: string }, status: number, heading: string, lang: 'fr' | 'en' = 'fr') {
  expect(res.status).toBe(status);
  expectPage(res, lang);
  expect(res.body).toContain(`<h1>${escapeHtml(heading)}</h1>`);
  expect(res.body).not.toContain('<form');
  expect(String(res.headers['content-security-policy'])).toContain("form-action 'none'");
}

describe('join links /j/<token> through the gateway', () => {
  let gw: LinkGateway;
  beforeAll(async () => {
    gw = await startLinkGateway({ label: 'join-links' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const usesOf = async (id: string) => (await gw.store.rooms.getLink(id))?.uses;

  it('shows the form in French or English, with the room title and the security headers', async () => {
    const room = await gw.room({ title: 'Histoire-géo 3e A' });
    const { url } = await gw.link(room);
    const fr = await get(url, { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' });
    expect(fr.status).toBe(200);
    expectPage(fr, 'fr');
    expect(fr.body).toContain('<bdi>Histoire-géo 3e A</bdi>');
    expect(fr.body).toContain(MESSAGES.fr.joinHeading);
    expect(fr.body).toContain('<label for="name">Votre nom</label>');
    // A form page may post to itself, then be sent on to the (simulated, http) servers.
    expect(fr.headers['content-security-policy']).toBe(
      `default-src 'none'; style-src ${PAGE_CSS_HASH}; form-action 'self' http:; frame-ancestors 'self'; base-uri 'none'`,
    );

    const en = await get(url, { 'accept-language': 'en-GB,en;q=0.9,fr;q=0.1' });
    expectPage(en, 'en');
    expect(en.body).toContain(MESSAGES.en.joinHeading);
    const switched = await get(`${url}?lang=en`, { 'accept-language': 'fr' });
    expectPage(switched, 'en');
    const head = await request(url, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    await head.body.dump();
  });

  it('escapes a hostile room title', async () => {
    const room = await gw.room({ title: `<script>alert(1)</script> "'&` });
    const { url } = await gw.link(room);
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;&#39;&amp;');
  });

  it('a name posted joins the meeting through the pool: 303 to the BBB client, one use taken', async () => {
    const room = await gw.room({ title: 'Physique' });
    const viewer = await gw.link(room, { maxUses: 5 });
    const res = await post(`${viewer.url}?lang=en`, 'name=Ana%20Lima');
    expect(res.status).toBe(303);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const location = String(res.headers.location);
    const servers = gw.pool.cluster.servers().map(({ server }) => server.baseUrl);
    expect(servers.some((base) => location.startsWith(base))).toBe(true);
    const entered = await enter(location);
    expect(entered.url).toMatch(/\/html5client\/join\?sessionToken=/);
    expect(entered.body).toMatchObject({ returncode: 'SUCCESS', fullname: 'Ana Lima', role: 'VIEWER', confname: 'Physique' });
    expect(String(entered.body.externMeetingID)).toContain(roomMeetingId(room.id));
    expect(await usesOf(viewer.link.id)).toBe(1);

    const moderator = await gw.link(room, { role: 'moderator' });
    const host = await post(moderator.url, `name=${encodeURIComponent('  Mme\tNdiaye  ')}`);
    expect(host.status).toBe(303);
    expect((await enter(String(host.headers.location))).body).toMatchObject({ returncode: 'SUCCESS', fullname: 'Mme Ndiaye', role: 'MODERATOR' });
  });

  it('refuses forged, malformed and expired tokens, before reading the link', async () => {
    const room = await gw.room();
    const { token, link } = await gw.link(room);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expectRefusal(await get(`${gw.url}/j/${forged}`), 404, MESSAGES.fr.invalidHeading);
    expectRefusal(await post(`${gw.url}/j/${forged}?lang=en`, 'name=Eve'), 404, MESSAGES.en.invalidHeading, 'en');
    // Another link's ID under this MAC.
    expectRefusal(await get(`${gw.url}/j/${'A'.repeat(22)}${token.slice(22)}`), 404, MESSAGES.fr.invalidHeading);
    for (const path of ['/j', '/j/', '/j/nothing', '/j/a/b/c', `/j/${token}/extra`, `/j/${'x'.repeat(5000)}`, `/j/${encodeURIComponent('<script>')}`]) {
      const res = await get(`${gw.url}${path}`, { 'accept-language': 'en' });
      expectRefusal(res, 404, MESSAGES.en.invalidHeading, 'en');
    }
    expect(await usesOf(link.id)).toBe(0);

    const expired = await gw.link(room, { expiresAt: Date.now() - 1000 });
    expectRefusal(await get(expired.url), 410, MESSAGES.fr.expiredHeading);
    expectRefusal(await post(expired.url, 'name=Late'), 410, MESSAGES.fr.expiredHeading);
  });

  it('refuses revoked, used-up and room-gone links with their own pages', async () => {
    const room = await gw.room();
    const revoked = await gw.link(room);
    expect(await gw.store.rooms.revokeLink(room.id, revoked.link.id)).toBe(true);
    expectRefusal(await get(revoked.url), 410, MESSAGES.fr.revokedHeading);
    expectRefusal(await post(`${revoked.url}?lang=en`, 'name=Bob'), 410, MESSAGES.en.revokedHeading, 'en');
    expect(await usesOf(revoked.link.id)).toBe(0);

    const once = await gw.link(room, { maxUses: 1 });
    expect((await post(once.url, 'name=First')).status).toBe(303);
    expectRefusal(await post(once.url, 'name=Second'), 410, MESSAGES.fr.usedUpHeading);
    expectRefusal(await get(once.url, { 'accept-language': 'en' }), 410, MESSAGES.en.usedUpHeading, 'en');
    expect(await usesOf(once.link.id)).toBe(1);

    const doomed = await gw.room();
    const orphan = await gw.link(doomed);
    expect(await gw.store.rooms.delete(doomed.id)).toBe(true);
    expectRefusal(await get(orphan.url), 404, MESSAGES.fr.roomGoneHeading);
    expectRefusal(await post(orphan.url, 'name=Nobody'), 404, MESSAGES.fr.roomGoneHeading);
  });

  it('a refused join gives its use back: the room has ended', async () => {
    const room = await gw.room({ title: 'Conseil <de> classe', start: Date.now() - 7_200_000, end: Date.now() - 60_000 });
    const { url, link } = await gw.link(room, { maxUses: 1 });
    const res = await post(`${url}?lang=en`, 'name=Ana');
    expectRefusal(res, 410, MESSAGES.en.endedHeading, 'en');
    expect(res.body).toContain('<bdi>Conseil &lt;de&gt; classe</bdi>');
    expect(await usesOf(link.id)).toBe(0);
    // The page says so before asking for a name.
    expectRefusal(await get(url), 410, MESSAGES.fr.endedHeading);
  });

  it('a full room refuses the join with its page and gives the use back (classroom: 48 viewers)', async () => {
    const room = await gw.room({ title: 'Classe pleine', profile: 'classroom' });
    const { url, link } = await gw.link(room, { maxUses: 100 });
    for (let i = 0; i < 48; i++) expect((await post(url, `name=Pupil%20${i}`)).status).toBe(303);
    const res = await post(url, 'name=Pupil%2048');
    expectRefusal(res, 409, MESSAGES.fr.fullHeading);
    expect(res.body).toContain(MESSAGES.fr.tryAgain);
    expect(await usesOf(link.id)).toBe(48);
  });

  it('bad forms show the form again with the error, in the same language, and take no use', async () => {
    const room = await gw.room({ title: 'Anglais' });
    const { url, link } = await gw.link(room, { maxUses: 1 });
    const cases: [string, string, Record<string, string>, number, keyof typeof MESSAGES.en][] = [
      ['empty', 'name=', FORM, 400, 'nameMissing'],
      ['blank', 'name=%20%09%0A', FORM, 400, 'nameMissing'],
      ['no field', '', FORM, 400, 'nameMissing'],
      ['too long', `name=${'a'.repeat(101)}`, FORM, 400, 'nameTooLong'],
      ['duplicated', 'name=a&name=b', FORM, 400, 'formUnreadable'],
      ['a stranger field', 'name=a&role=moderator', FORM, 400, 'formUnreadable'],
      ['JSON', '{"name":"Ana"}', { 'content-type': 'application/json' }, 415, 'formType'],
      ['multipart', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nAna\r\n--x--\r\n', { 'content-type': 'multipart/form-data; boundary=x' }, 415, 'formType'],
      ['text', 'name=Ana', { 'content-type': 'text/plain' }, 415, 'formType'],
      ['huge', `name=${'a'.repeat(5000)}`, FORM, 413, 'formTooLarge'],
    ];
    for (const [what, body, headers, status, problem] of cases) {
      for (const lang of ['fr', 'en'] as const) {
        const res = await post(`${url}?lang=${lang}`, body, headers);
        expect(res.status, `${what} ${lang}`).toBe(status);
        expectPage(res, lang);
        expect(res.body, what).toContain(`role="alert">${escapeHtml(MESSAGES[lang].errorPrefix)} ${escapeHtml(MESSAGES[lang][problem])}</p>`);
        expect(res.body).toContain('<form method="post"');
        expect(res.body).toContain('<bdi>Anglais</bdi>');
      }
    }
    // What was typed comes back, escaped, so it can be corrected.
    const typed = await post(url, `name=${encodeURIComponent(`"><b>${'x'.repeat(100)}`)}`);
    expect(typed.body).toContain(`value="&quot;&gt;&lt;b&gt;${'x'.repeat(100)}"`);
    expect(await usesOf(link.id)).toBe(0);
  });

  it('other methods get a page saying so', async () => {
    const { url } = await gw.link(await gw.room());
    const res = await request(url, { method: 'DELETE', headers: { 'accept-language': 'en' } });
    const page = { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    expectRefusal(page, 405, MESSAGES.en.methodNotAllowedHeading, 'en');
    expect(page.headers.allow).toBe('GET, HEAD, POST');
  });
});

describe('join links under the per-address rate limit', () => {
  let gw: LinkGateway;
  beforeAll(async () => {
    gw = await startLinkGateway({ label: 'join-links-limit', env: { AMPHI_RATE_LIMIT_PER_IP: '3' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('counts form posts per address and answers 429 with a page once over', async () => {
    const { url, link } = await gw.link(await gw.room());
    for (let i = 0; i < 3; i++) expect((await post(url, 'name=')).status).toBe(400);
    const limited = await post(`${url}?lang=en`, 'name=Ana');
    expectRefusal(limited, 429, MESSAGES.en.rateLimitedHeading, 'en');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toContain(MESSAGES.en.tryAgain);
    expect(await gw.store.rooms.getLink(link.id)).toMatchObject({ uses: 0 });
    // Looking at the page is not limited: the person can still read why.
    expect((await get(url)).status).toBe(200);
  });
});

describe('join links when no server can take the meeting', () => {
  let gw: LinkGateway;
  beforeAll(async () => {
    gw = await startLinkGateway({ label: 'join-links-down', servers: 1 });
    for (const id of gw.pool.serverIds) await gw.store.servers.setHealth(id, 'offline');
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers 503 with a page to try again later, and gives the use back', async () => {
    const { url, link } = await gw.link(await gw.room(), { maxUses: 1 });
    const res = await post(`${url}?lang=en`, 'name=Ana');
    expectRefusal(res, 503, MESSAGES.en.unavailableHeading, 'en');
    expect(res.body).toContain(MESSAGES.en.tryAgain);
    expect(await gw.store.rooms.getLink(link.id)).toMatchObject({ uses: 0 });
  });
});

describe('join links without Redis', () => {
  it('answers the unavailable page (503), never a 500 or JSON; a forged token still gets its 404', async () => {
    // Nothing listens on port 1: every command fails fast.
    const redis = createRedis('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: true });
    redis.on('error', () => {});
    const settings = loadSettings({ AMPHI_SECRET: GATEWAY_SECRET, AMPHI_JWT_SECRET: LINK_JWT_SECRET, LOG_LEVEL: 'silent' });
    const { app, gateway } = await buildApp({ store: new Store(redis), redis, settings, logger: false });
    const key = linkKey(LINK_JWT_SECRET);
    if (!app.hasRoute({ method: 'GET', url: '/j/*' })) await registerJoinLinks(app, { gateway, rooms: new RoomMeetings(gateway), linkKey: key });
    try {
      const token = signLinkToken(key, newLinkId(), Date.now() + 60_000);
      for (const [method, body] of [['GET', undefined], ['POST', 'name=Ana'], ['POST', 'name=']] as const) {
        const res = await app.inject({ method, url: `/j/${token}?lang=en`, payload: body, headers: body === undefined ? {} : FORM });
        expectRefusal({ status: res.statusCode, headers: res.headers, body: res.body }, 503, MESSAGES.en.unavailableHeading, 'en');
      }
      const forged = await app.inject({ url: `/j/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` });
      expect(forged.statusCode).toBe(404);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});
