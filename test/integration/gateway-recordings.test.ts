import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startTestPool, type TestGateway, type TestPool } from '../helpers/gateway.js';

/** Recordings fan out to the servers and merge; insertDocument and sendChatMessage reach the meeting's server. */
describe('gateway: recordings, documents and chat', () => {
  let pool: TestPool;
  let gw: TestGateway;
  const acmeSecret = 'acme-recordings-secret-0123';

  beforeAll(async () => {
    pool = await startTestPool({ servers: 3, label: 'recordings' });
    await pool.store.tenants.put({ name: 'acme', secrets: [acmeSecret], hostnames: [], settings: {} });
    gw = await pool.startGateway();
  });
  afterAll(() => pool.close());

  /** A recorded lesson, created (running, its reservation on its server). */
  async function startLesson(client: ReturnType<TestGateway['clientFor']>, meetingID: string): Promise<void> {
    await client.create([['meetingID', meetingID], ['name', `Lesson ${meetingID}`], ['record', 'true']]);
  }

  /** One user, then the end: the simulated server publishes its recording. */
  async function endLesson(client: ReturnType<TestGateway['clientFor']>, upstreamID: string, meetingID: string): Promise<void> {
    const holder = pool.cluster.servers().find(({ server }) => server.model.meeting(upstreamID))!.server;
    holder.addUsers(upstreamID, { count: 1 });
    await client.end(meetingID);
  }

  async function recordedLesson(client: ReturnType<TestGateway['clientFor']>, upstreamID: string, meetingID: string): Promise<void> {
    await startLesson(client, meetingID);
    await endLesson(client, upstreamID, meetingID);
  }

  it('lists recordings from every server, in the tenant namespace only', async () => {
    const acme = gw.clientFor('/t/acme', acmeSecret);
    // All three running at once, so placement spreads them (ended one by one, each would find
    // every server empty again, and all three could land on one: 1 time in 9).
    for (let i = 0; i < 3; i++) await startLesson(gw.client, `lesson-${i}`);
    for (let i = 0; i < 3; i++) await endLesson(gw.client, `lesson-${i}`, `lesson-${i}`);
    await recordedLesson(acme, 'acme~lesson-0', 'lesson-0');
    const all = await gw.client.getRecordings();
    expect(all.map((r) => r.meetingID).sort()).toEqual(['lesson-0', 'lesson-1', 'lesson-2']);
    const holders = new Set(pool.cluster.servers().filter(({ server }) => server.model.recordings.size > 0).map(({ index }) => index));
    expect(holders.size).toBeGreaterThan(1); // merged from several servers
    const mine = await acme.getRecordings();
    expect(mine.map((r) => r.meetingID)).toEqual(['lesson-0']);
    expect(await gw.client.getRecordings([['meetingID', 'lesson-1']])).toHaveLength(1);
    expect(await gw.client.getRecordings([['limit', '2']])).toHaveLength(2);
  });

  it('publishes, updates and deletes a recording on the server that holds it, never another tenant one', async () => {
    const acme = gw.clientFor('/t/acme', acmeSecret);
    const [own] = await gw.client.getRecordings([['meetingID', 'lesson-2']]);
    const [theirs] = await acme.getRecordings();
    expect(await gw.client.publishRecordings(own!.recordID, false)).toBe(false);
    expect((await gw.client.getRecordings([['meetingID', 'lesson-2'], ['state', 'any']]))[0]!.published).toBe(false);
    expect(await gw.client.updateRecordings(own!.recordID, { 'gl-listed': 'true' })).toBe(true);
    // The default tenant cannot touch acme's recording, even knowing its ID.
    await expect(gw.client.deleteRecordings(theirs!.recordID)).rejects.toMatchObject({ messageKey: 'notFound' });
    await expect(gw.client.publishRecordings('no-such-recording', true)).rejects.toMatchObject({ messageKey: 'notFound' });
    expect(await gw.client.deleteRecordings(own!.recordID)).toBe(true);
    expect((await gw.client.getRecordings()).map((r) => r.meetingID).sort()).toEqual(['lesson-0', 'lesson-1']);
    expect(await acme.getRecordings()).toHaveLength(1);
  });

  it('forwards insertDocument and sendChatMessage to the meeting server', async () => {
    await gw.client.create([['meetingID', 'docs'], ['name', 'Docs']]);
    const body = '<modules><module name="presentation"><document url="https://example.org/a.pdf" filename="a.pdf"/></module></modules>';
    const inserted = await request(gw.client.url('insertDocument', [['meetingID', 'docs']]), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/xml' },
    });
    expect(await inserted.body.text()).toContain('<returncode>SUCCESS</returncode>');
    const chat = await request(gw.client.url('sendChatMessage', [['meetingID', 'docs'], ['message', 'Class starts in 5 minutes']]));
    expect(await chat.body.text()).toContain('<returncode>SUCCESS</returncode>');
    const missing = await request(gw.client.url('sendChatMessage', [['meetingID', 'nowhere'], ['message', 'hi']]));
    expect(await missing.body.text()).toContain('<messageKey>notFound</messageKey>');
  });
});
