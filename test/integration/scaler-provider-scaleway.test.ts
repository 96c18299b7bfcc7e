// The scaleway provider against a local stand-in of the Instances API (test/helpers/
// scaleway-stand-in.ts) that checks every request's method, path, token, content type and
// body keys, and keeps servers and their state transitions.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../scaler/providers/provider.js';
import { ScalewayProvider } from '../../scaler/providers/scaleway.js';
import type { ScalewayProviderOptions } from '../../scaler/providers/scaleway.js';
import { ScalewayStandIn } from '../helpers/scaleway-stand-in.js';

const TOKEN = 'scw-secret-0f3c9a7e-token';
const ZONE = 'fr-par-2';
const PROJECT = '11111111-2222-3333-4444-555555555555';
const TYPES = { standard: 'POP2-HC-8C-16G', large: 'POP2-HC-16C-32G' };

let api: ScalewayStandIn;
let provider: ScalewayProvider;

function make(over: Partial<ScalewayProviderOptions> = {}): ScalewayProvider {
  return new ScalewayProvider({
    token: TOKEN,
    zone: ZONE,
    project: PROJECT,
    image: 'bbb-3.0-image',
    commercialTypes: TYPES,
    tags: ['bbb'],
    apiBase: api.url,
    timeoutMs: 5000,
    ...over,
  });
}

beforeEach(async () => {
  api = await ScalewayStandIn.start({ token: TOKEN, zone: ZONE, commercialTypes: Object.values(TYPES) });
  provider = make();
});

afterEach(async () => {
  expect(api.violations).toEqual([]);
  await api.close();
});

const keyTag = (key: string) => `amphi-key=${key}`;

describe('scaleway provider: create', () => {
  it('creates from the image, hands the BBB secret over in cloud-init, then powers on', async () => {
    const created = await provider.create({ sizeClass: 'large', idempotencyKey: 'job-1' });

    expect(api.calls()).toEqual([
      'GET /servers',
      'POST /servers',
      `PATCH /servers/${created.id}/user_data/cloud-init`,
      `POST /servers/${created.id}/action`,
    ]);
    const [list, post, patch, action] = api.requests;
    expect(list!.query).toEqual({ project: PROJECT, tags: keyTag('job-1'), per_page: '100', page: '1' });
    expect(post!.contentType).toBe('application/json');
    expect(JSON.parse(post!.body)).toEqual({
      name: 'amphi-large-job-1',
      commercial_type: 'POP2-HC-16C-32G',
      image: 'bbb-3.0-image',
      project: PROJECT,
      tags: ['bbb', 'amphi-managed', keyTag('job-1'), 'amphi-size=large'],
      dynamic_ip_required: true,
    });
    expect(patch!.contentType).toBe('text/plain');
    expect(JSON.parse(action!.body)).toEqual({ action: 'poweron' });

    expect(created.secret).toMatch(/^[0-9a-f]{40}$/);
    const userData = api.servers.get(created.id)!.userData.get('cloud-init')!;
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(userData).toContain(`content: ${created.secret}`);
    expect(userData).toContain('bbb-conf --setsecret');
    expect(created).toMatchObject({ sizeClass: 'large', status: 'booting', idempotencyKey: 'job-1' });
    expect(created.apiUrl).toBeUndefined(); // no public IP yet
    expect(api.servers.get(created.id)!.state).toBe('starting');
  });

  it('reports the server running with its BBB URL once Scaleway has started it', async () => {
    const created = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-2' });
    expect(await provider.status(created.id)).toBe('booting');
    api.advance();
    expect(await provider.status(created.id)).toBe('running');
    const got = await provider.get(created.id);
    const ip = api.servers.get(created.id)!.public_ips[0]!.address;
    expect(got).toMatchObject({ id: created.id, status: 'running', sizeClass: 'standard', apiUrl: `https://${ip}/bigbluebutton/api`, secret: created.secret });
  });

  it('builds the BBB URL from a template', async () => {
    const p = make({ apiUrlTemplate: 'https://{name}.bbb.example.org/bigbluebutton/api' });
    const created = await p.create({ sizeClass: 'standard', idempotencyKey: 'job-3' });
    expect(created.apiUrl).toBe('https://amphi-standard-job-3.bbb.example.org/bigbluebutton/api');
  });

  it('does not boot twice for one key: a retried create answers the same server', async () => {
    const first = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-4' });
    const again = await make().create({ sizeClass: 'standard', idempotencyKey: 'job-4' }); // another replica
    expect(again.id).toBe(first.id);
    expect(again.secret).toBe(first.secret);
    expect(api.servers.size).toBe(1);
    expect(api.calls().filter((c) => c === 'POST /servers')).toHaveLength(1);
    expect(api.calls().filter((c) => c.endsWith('/action'))).toHaveLength(1);
  });

  it('resumes a create killed after POST /servers: user data, then power on', async () => {
    const s = api.seed({ name: 'amphi-standard-job-5', tags: ['amphi-managed', keyTag('job-5'), 'amphi-size=standard'], state: 'stopped', project: PROJECT });
    const resumed = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-5' });
    expect(resumed.id).toBe(s.id);
    expect(api.calls()).toEqual([
      'GET /servers',
      `GET /servers/${s.id}/user_data/cloud-init`,
      `PATCH /servers/${s.id}/user_data/cloud-init`,
      `POST /servers/${s.id}/action`,
    ]);
    expect(s.userData.get('cloud-init')).toContain(resumed.secret!);
    expect(s.state).toBe('starting');
  });

  it('resumes a create killed after its user data: keeps the secret, powers on', async () => {
    const first = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-6' });
    const s = api.servers.get(first.id)!;
    s.state = 'stopped'; // as if the poweron never happened
    api.requests.length = 0;
    const resumed = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-6' });
    expect(resumed.secret).toBe(first.secret);
    expect(api.calls()).toEqual(['GET /servers', `GET /servers/${s.id}/user_data/cloud-init`, `POST /servers/${s.id}/action`]);
  });

  it('refuses a size class without a commercial type, and a key that cannot be a tag', async () => {
    await expect(provider.create({ sizeClass: 'small', idempotencyKey: 'job-7' })).rejects.toThrow(/no commercial type for size class "small"/);
    await expect(provider.create({ sizeClass: 'standard', idempotencyKey: 'a,b' })).rejects.toThrow(/idempotency key/);
    expect(api.requests).toEqual([]);
  });
});

describe('scaleway provider: list, status, delete', () => {
  it('lists the managed servers of the project, every page', async () => {
    for (let i = 0; i < 130; i++) api.seed({ name: `m${i}`, tags: ['amphi-managed', keyTag(`k${i}`), 'amphi-size=standard'], state: 'running', project: PROJECT });
    api.seed({ name: 'by-hand', tags: ['bbb'], state: 'running', project: PROJECT });
    api.seed({ name: 'other-project', tags: ['amphi-managed'], state: 'running', project: 'other' });
    const servers = await provider.list();
    expect(servers).toHaveLength(130);
    expect(new Set(servers.map((s) => s.idempotencyKey)).size).toBe(130);
    expect(servers.every((s) => s.status === 'running' && s.sizeClass === 'standard' && s.apiUrl?.startsWith('https://51.15.'))).toBe(true);
    expect(servers.every((s) => s.secret === undefined)).toBe(true);
    expect(api.requests.map((r) => r.query.page)).toEqual(['1', '2']);
    expect(api.requests.every((r) => r.query.tags === 'amphi-managed' && r.query.project === PROJECT)).toBe(true);
  });

  it('maps the Scaleway states, and gone once it is no more', async () => {
    const states = { running: 'running', starting: 'booting', stopped: 'failed', 'stopped in place': 'failed', stopping: 'failed', locked: 'failed' } as const;
    for (const [state, status] of Object.entries(states)) {
      const s = api.seed({ name: state, tags: ['amphi-managed'], state: state as keyof typeof states });
      expect(await provider.status(s.id), state).toBe(status);
    }
    expect(await provider.status('00000000-0000-0000-0000-000000000000')).toBe('gone');
    expect(await provider.get('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('terminates a running server; it reads gone at once and Scaleway removes it', async () => {
    const created = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-8' });
    api.advance();
    api.requests.length = 0;
    await provider.delete(created.id);
    expect(api.calls()).toEqual([`GET /servers/${created.id}`, `POST /servers/${created.id}/action`]);
    expect(JSON.parse(api.requests[1]!.body)).toEqual({ action: 'terminate' });
    expect(await provider.status(created.id)).toBe('gone');
    api.advance();
    expect(api.servers.has(created.id)).toBe(false);
    expect(await provider.status(created.id)).toBe('gone');
    await provider.delete(created.id); // already gone: no error
  });

  it('deletes a stopped server with DELETE (terminate is not offered then)', async () => {
    const s = api.seed({ name: 's', tags: ['amphi-managed'], state: 'stopped' });
    await provider.delete(s.id);
    expect(api.calls()).toEqual([`GET /servers/${s.id}`, `DELETE /servers/${s.id}`]);
    expect(api.servers.has(s.id)).toBe(false);
  });

  it('refuses, retryably, to delete a server still starting', async () => {
    const s = api.seed({ name: 's', tags: ['amphi-managed'], state: 'starting' });
    const err = await provider.delete(s.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    expect(api.servers.get(s.id)!.state).toBe('starting');
  });
});

describe('scaleway provider: errors', () => {
  it('says the token was refused without quoting it', async () => {
    const p = make({ token: 'scw-wrong-token-7d1e' });
    const err = (await p.list().catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('/instance/v1/zones/fr-par-2/servers');
    expect(err.message).not.toContain('scw-wrong-token-7d1e');
    expect(err.message).not.toContain('project=');
    expect(JSON.stringify(err)).not.toContain('scw-wrong-token-7d1e');
  });

  it('an unreachable API is a retryable error that does not name the token', async () => {
    await api.close();
    const err = (await provider.status('x').catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain(TOKEN);
    api = await ScalewayStandIn.start({ token: TOKEN, zone: ZONE, commercialTypes: Object.values(TYPES) }); // for afterEach
  });

  it('checks its options', () => {
    expect(() => make({ zone: 'paris' })).toThrow(/zone/);
    expect(() => make({ token: '' })).toThrow(/token is required/);
  });
});

describe('scaleway provider: user data read back as a File object', () => {
  it('finds the secret in a base64 File answer too', async () => {
    const created = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-9' });
    const s = api.servers.get(created.id)!;
    const raw = s.userData.get('cloud-init')!;
    // The stand-in answers stored text as is: store the File object the OpenAPI describes.
    s.userData.set('cloud-init', JSON.stringify({ name: 'cloud-init', content_type: 'text/plain', content: Buffer.from(raw).toString('base64') }));
    expect((await provider.get(created.id))?.secret).toBe(created.secret);
  });
});
