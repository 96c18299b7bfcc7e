// Meetings announced by their creates (meta_amphi-start): recorded through the real gateway in
// a private Redis, bounded per tenant, read back as the scaler's forecast source.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnnouncedStoreSource } from '../../scaler/forecast/announced-store.js';
import { DEFAULT_LOAD_WEIGHTS, DEFAULT_SIZE_CLASSES, expectedMeetingLoad } from '../../src/placement/load-model.js';
import { DEFAULT_POLICY_DIR, PolicyStore } from '../../src/policy/index.js';
import { DEFAULT_TENANT } from '../../src/state/namespace.js';
import { Store } from '../../src/state/store.js';
import { startTestPool, type TestPool } from '../helpers/gateway.js';

const HOUR = 3_600_000;
const ACME_SECRET = 'acme-secret-0123456789';

/** The default policy with `tenants:` replaced by the given YAML block. */
async function policyWithTenants(tenants: string): Promise<PolicyStore> {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-policy-'));
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
  const file = join(dir, 'default.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^tenants: \{\}$/m, `tenants:\n${tenants}`));
  const policies = new PolicyStore();
  await policies.load(dir);
  return policies;
}

/** The hour the file started in: the slots stay put should the clock pass an hour meanwhile. */
const BASE = Math.floor(Date.now() / HOUR) * HOUR;

/** An hour boundary a few hours ahead, as an ISO date-time in Paris winter time and as ms. */
function slot(hoursAhead: number): { iso: string; ms: number } {
  const ms = BASE + hoursAhead * HOUR;
  const local = new Date(ms + HOUR).toISOString().slice(0, 19);
  return { iso: `${local}+01:00`, ms };
}

const announce = (meetingID: string, from: number, to: number, participants: number): [string, string][] => [
  ['meetingID', meetingID],
  ['name', `Lesson ${meetingID}`],
  ['meta_amphi-start', slot(from).iso],
  ['meta_amphi-end', slot(to).iso],
  ['meta_amphi-expected-participants', String(participants)],
];

describe('announced meetings', () => {
  let pool: TestPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const all = (p: TestPool) => p.store.announcements.overlapping(0, Date.now() + 30 * 24 * HOUR);

  it('a create with meta_amphi-start is recorded; a second create of the meeting replaces it', async () => {
    pool = await startTestPool({ servers: 2, label: 'announce' });
    const gw = await pool.startGateway();
    const created = await gw.client.create(announce('lesson', 2, 3, 30));
    expect(created.messageKey).toBe('');
    const first = await all(pool);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ tenant: DEFAULT_TENANT, meetingID: 'lesson', startsAt: slot(2).ms, endsAt: slot(3).ms, participants: 30 });
    expect(first[0]!.cameras).toBeGreaterThanOrEqual(0);

    // The meeting runs: the second create is a duplicate, and its announcement replaces the first.
    const again = await gw.client.create([...announce('lesson', 5, 7, 40)]);
    expect(again.messageKey).toBe('duplicateWarning');
    expect(await all(pool)).toEqual([expect.objectContaining({ meetingID: 'lesson', startsAt: slot(5).ms, endsAt: slot(7).ms, participants: 40 })]);

    // A create without meta_amphi-start leaves the announcement as it is.
    await gw.client.create([['meetingID', 'lesson'], ['name', 'Lesson lesson']]);
    expect(await all(pool)).toHaveLength(1);

    // Epoch seconds and BBB's duration.
    await gw.client.create([['meetingID', 'epoch'], ['name', 'Epoch'], ['meta_amphi-start', String(slot(4).ms / 1000)], ['duration', '45']]);
    expect((await all(pool)).find((a) => a.meetingID === 'epoch')).toMatchObject({ startsAt: slot(4).ms, endsAt: slot(4).ms + 45 * 60_000 });
  });

  it('a bad meta_amphi-start refuses the create, BBB style, and creates nothing', async () => {
    pool = await startTestPool({ servers: 1, label: 'announce-bad' });
    const gw = await pool.startGateway();
    for (const bad of ['2026-12-02T08:00:00', 'next monday', String(Math.floor(Date.now() / 1000) + 15 * 24 * 3600), '１７９６１９４８００']) {
      const refused = await gw.client.create([['meetingID', 'bad'], ['name', 'Bad'], ['meta_amphi-start', bad]]).catch((e: unknown) => e);
      expect(refused, bad).toMatchObject({ messageKey: 'invalidAnnouncement' });
    }
    const over = await gw.client.create([...announce('bad', 2, 3, 10).slice(0, 3), ['meta_amphi-end', slot(30).iso]]).catch((e: unknown) => e);
    expect(over).toMatchObject({ messageKey: 'invalidAnnouncement', bbbMessage: expect.stringContaining('24 hours') });
    expect(await gw.client.getMeetings()).toEqual([]);
    expect(await all(pool)).toEqual([]);
  });

  it("another tenant's create of the same meeting ID neither replaces nor sees the first", async () => {
    pool = await startTestPool({ servers: 2, label: 'announce-tenants' });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway();
    await gw.client.create(announce('lesson', 2, 3, 30));
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    await acme.create(announce('lesson', 6, 8, 20));
    const stored = await all(pool);
    expect(stored).toHaveLength(2);
    expect(stored.find((a) => a.tenant === DEFAULT_TENANT)).toMatchObject({ meetingID: 'lesson', startsAt: slot(2).ms, participants: 30 });
    expect(stored.find((a) => a.tenant === 'acme')).toMatchObject({ meetingID: 'lesson', startsAt: slot(6).ms, participants: 20 });
    // Each tenant's index holds its own announcement only.
    const { redis } = pool.redis;
    const keys = pool.store.ctx.keys;
    expect(await redis.zrange(keys.tenantAnnounced('acme'), 0, -1)).toEqual(['acme:lesson']);
    expect(await redis.zrange(keys.tenantAnnounced(DEFAULT_TENANT), 0, -1)).toEqual([`${DEFAULT_TENANT}:lesson`]);
    // A meeting ID that spells another tenant's ref stays in its own tenant.
    await acme.create(announce(`${DEFAULT_TENANT}:lesson`, 9, 10, 5));
    expect((await all(pool)).find((a) => a.tenant === DEFAULT_TENANT)).toMatchObject({ startsAt: slot(2).ms, participants: 30 });
  });

  it('drops an announcement over the per-tenant cap (the create stands) and keeps those that fit', async () => {
    pool = await startTestPool({ servers: 2, label: 'announce-cap', env: { AMPHI_ANNOUNCED_MAX_PARTICIPANTS_PER_TENANT: '50' } });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway();
    await gw.client.create(announce('aa', 2, 4, 30));
    const over = await gw.client.create(announce('bb', 3, 5, 30)); // 60 at 3:00
    expect(over.messageKey).toBe('');
    expect((await gw.client.getMeetingInfo('bb')).meetingID).toBe('bb');
    await gw.client.create(announce('cc', 4, 6, 30)); // a ends as c starts
    await gw.client.create(announce('dd', 5, 6, 20)); // 50 at 5:00
    // Another tenant has caps of its own.
    await gw.clientFor('/t/acme', ACME_SECRET).create(announce('bb', 3, 5, 30));
    const stored = await all(pool);
    expect(stored.filter((a) => a.tenant === DEFAULT_TENANT).map((a) => a.meetingID).sort()).toEqual(['aa', 'cc', 'dd']);
    expect(stored.filter((a) => a.tenant === 'acme').map((a) => a.meetingID)).toEqual(['bb']);
    // One over the cap replacing one that fits: the latest create speaks, and it is dropped.
    await gw.client.create(announce('dd', 5, 6, 40));
    expect((await all(pool)).map((a) => a.meetingID).sort()).toEqual(['aa', 'bb', 'cc']);
  });

  it("holds a tenant's announcements to its participant quota, and records none at 0", async () => {
    const policies = await policyWithTenants('  acme:\n    quotas: { maxParticipants: 40 }');
    pool = await startTestPool({ servers: 2, label: 'announce-quota' });
    await pool.store.tenants.put({ name: 'acme', secrets: [ACME_SECRET], hostnames: [], settings: {} });
    const gw = await pool.startGateway({ policies });
    const acme = gw.clientFor('/t/acme', ACME_SECRET);
    await acme.create(announce('aa', 2, 4, 30));
    await acme.create(announce('bb', 3, 5, 20));
    expect((await all(pool)).map((a) => a.meetingID)).toEqual(['aa']);

    const off = await startTestPool({ servers: 1, label: 'announce-off', env: { AMPHI_ANNOUNCED_MAX_PARTICIPANTS_PER_TENANT: '0' } });
    try {
      const offGw = await off.startGateway();
      expect((await offGw.client.create(announce('xx', 2, 3, 10))).messageKey).toBe('');
      expect(await all(off)).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it('caps the count of stored announcements per tenant', async () => {
    pool = await startTestPool({ servers: 1, label: 'announce-count' });
    const base = { tenant: 'acme', startsAt: Date.now() + HOUR, participants: 1, cameras: 0 };
    expect(await pool.store.announcements.put({ ...base, meetingID: 'm1' }, { participants: 100, count: 2 })).toEqual({ stored: true });
    expect(await pool.store.announcements.put({ ...base, meetingID: 'm2' }, { participants: 100, count: 2 })).toEqual({ stored: true });
    expect(await pool.store.announcements.put({ ...base, meetingID: 'm3' }, { participants: 100, count: 2 })).toEqual({ stored: false, reason: 'count', current: 2 });
    // Replacing one of its own is no new one.
    expect(await pool.store.announcements.put({ ...base, meetingID: 'm2', participants: 3 }, { participants: 100, count: 2 })).toEqual({ stored: true });
    expect((await all(pool)).map((a) => a.meetingID).sort()).toEqual(['m1', 'm2']);
  });

  it("gives the scaler's source the announced load, and prunes an announcement once it has ended", async () => {
    pool = await startTestPool({ servers: 1, label: 'announce-scaler' });
    const gw = await pool.startGateway();
    await gw.client.create(announce('webinar', 1, 2, 300));
    await gw.client.create(announce('later', 30, 31, 20)); // outside the lookahead
    const stored = (await all(pool)).find((a) => a.meetingID === 'webinar')!;
    const source = new AnnouncedStoreSource((from, to) => pool!.store.announcements.overlapping(from, to), { weights: DEFAULT_LOAD_WEIGHTS, classes: DEFAULT_SIZE_CLASSES, defaultDurationMs: HOUR }, 3 * HOUR);
    const now = Date.now();
    expect(await source.refresh(now)).toBe(1);
    const load = expectedMeetingLoad(stored.participants, stored.cameras, DEFAULT_LOAD_WEIGHTS);
    expect(source.demand(now, now + 3 * HOUR)).toMatchObject({ total: load, source: 'announced meetings' });
    expect(source.demand(now, slot(1).ms - 1).total).toBe(0);

    // Two days on, both have ended: a read drops them from the set and their data.
    const { redis } = pool.redis;
    const keys = pool.store.ctx.keys;
    const later = new Store(redis, { namespace: pool.redis.prefix.slice(0, -1), now: () => Date.now() + 3 * 24 * HOUR });
    expect(await later.announcements.overlapping(Date.now() + 3 * 24 * HOUR, Date.now() + 4 * 24 * HOUR)).toEqual([]);
    expect(await redis.zcard(keys.announced)).toBe(0);
    expect(await redis.hlen(keys.announcedData)).toBe(0);
    // A write prunes the tenant's index too.
    await later.announcements.put({ tenant: DEFAULT_TENANT, meetingID: 'next', startsAt: Date.now() + 3 * 24 * HOUR, participants: 5, cameras: 0 }, { participants: 100 });
    expect(await redis.zrange(keys.tenantAnnounced(DEFAULT_TENANT), 0, -1)).toEqual([`${DEFAULT_TENANT}:next`]);
    expect(await redis.pttl(keys.announced)).toBeGreaterThan(14 * 24 * HOUR);
  });
});
