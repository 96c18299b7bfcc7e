// The webhook provider against an operator's automation played by a local HTTP server that
// checks every signature with its own HMAC code (not the module's), refuses stale timestamps,
// and keeps the servers it was asked for.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../scaler/providers/provider.js';
import { signWebhook, verifyWebhookSignature, WebhookProvider } from '../../scaler/providers/webhook.js';

const SECRET = 'hook-secret-5b9e2d71c4';
const BBB_SECRET = 'bbb-secret-a1b2c3d4e5f6a7b8c9d0';

interface OpServer {
  id: string;
  sizeClass: string;
  status: 'booting' | 'running' | 'failed' | 'gone';
  idempotencyKey: string;
  apiUrl?: string;
  secret?: string;
  tags: Record<string, string>;
}

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
  verdict: 'ok' | 'refused';
}

/** The operator's side of the contract. */
class Automation {
  readonly servers = new Map<string, OpServer>();
  readonly seen: Seen[] = [];
  /** The operator's clock, seconds. */
  clock = () => Date.now() / 1000;
  /** Break the answers on purpose. */
  answer: 'normal' | 'malformed' | 'error' = 'normal';
  private seq = 0;
  private readonly http: Server;

  constructor() {
    this.http = createServer((req, res) => this.onRequest(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    const a = this.http.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/ops/amphi`;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private verify(req: IncomingMessage, body: string): boolean {
    const ts = req.headers['x-amphi-timestamp'];
    const sig = req.headers['x-amphi-signature'];
    if (typeof ts !== 'string' || typeof sig !== 'string' || !sig.startsWith('sha256=')) return false;
    if (Math.abs(this.clock() - Number(ts)) > 300) return false;
    const mac = createHmac('sha256', SECRET).update(`${ts}.${req.method}.${req.url}.${body}`).digest();
    const given = Buffer.from(sig.slice('sha256='.length), 'hex');
    return given.length === mac.length && timingSafeEqual(given, mac);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = this.verify(req, body);
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers, verdict: ok ? 'ok' : 'refused' });
      const send = (status: number, json?: unknown) => {
        res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json' });
        res.end(json === undefined ? '' : JSON.stringify(json));
      };
      if (!ok) return send(401, { error: 'bad signature' });
      if (this.answer === 'error') return send(503, { error: `down, secret ${BBB_SECRET}` });
      const path = (req.url ?? '').split('?')[0]!;
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && path === '/ops/amphi/servers') {
        if (req.headers['content-type'] !== 'application/json') return send(415);
        const b = JSON.parse(body) as { idempotencyKey: string; sizeClass: string; name: string; tags: Record<string, string> };
        if (req.headers['idempotency-key'] !== b.idempotencyKey) return send(400);
        const same = [...this.servers.values()].find((s) => s.idempotencyKey === b.idempotencyKey);
        if (same) return send(200, same);
        const s: OpServer = { id: `vm-${++this.seq}`, sizeClass: b.sizeClass, status: 'booting', idempotencyKey: b.idempotencyKey, tags: b.tags };
        this.servers.set(s.id, s);
        return send(this.answer === 'malformed' ? 201 : 202, this.answer === 'malformed' ? { ...s, status: 'up', secret: BBB_SECRET } : s);
      }
      if (req.method === 'POST' && (m = /^\/ops\/amphi\/servers\/([^/]+)\/delete$/.exec(path))) {
        const id = decodeURIComponent(m[1]!);
        if (!this.servers.has(id) || (JSON.parse(body) as { id: string }).id !== id) return send(404);
        this.servers.delete(id);
        return send(204);
      }
      if (req.method === 'GET' && path === '/ops/amphi/servers') return send(200, { servers: [...this.servers.values()] });
      if (req.method === 'GET' && (m = /^\/ops\/amphi\/servers\/([^/]+)$/.exec(path))) {
        const s = this.servers.get(decodeURIComponent(m[1]!));
        return s ? send(200, s) : send(404);
      }
      return send(404);
    });
  }
}

let ops: Automation;
let url: string;

beforeEach(async () => {
  ops = new Automation();
  url = await ops.start();
});

afterEach(async () => {
  await ops.close();
});

describe('webhook provider', () => {
  it('posts a signed create, then reads the server back until it runs', async () => {
    const provider = new WebhookProvider({ url, secret: SECRET });
    const created = await provider.create({ sizeClass: 'large', idempotencyKey: 'job-1', tags: { team: 'edu' } });
    expect(created).toMatchObject({ id: 'vm-1', sizeClass: 'large', status: 'booting', idempotencyKey: 'job-1' });
    expect(ops.seen.map((s) => `${s.method} ${s.url} ${s.verdict}`)).toEqual(['GET /ops/amphi/servers ok', 'POST /ops/amphi/servers ok']);
    const post = ops.seen[1]!;
    expect(JSON.parse(post.body)).toEqual({
      idempotencyKey: 'job-1',
      sizeClass: 'large',
      name: 'amphi-large-job-1',
      tags: { team: 'edu', 'amphi-managed': '', 'amphi-key': 'job-1', 'amphi-size': 'large' },
    });
    expect(post.headers['x-amphi-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(Math.abs(Number(post.headers['x-amphi-timestamp']) - Date.now() / 1000)).toBeLessThan(5);

    expect(await provider.status('vm-1')).toBe('booting');
    Object.assign(ops.servers.get('vm-1')!, { status: 'running', apiUrl: 'https://bbb9.example.org/bigbluebutton/api', secret: BBB_SECRET });
    expect(await provider.status('vm-1')).toBe('running');
    expect(await provider.get('vm-1')).toMatchObject({ apiUrl: 'https://bbb9.example.org/bigbluebutton/api', secret: BBB_SECRET });
    expect((await provider.list()).map((s) => s.id)).toEqual(['vm-1']);
    expect(ops.seen.every((s) => s.verdict === 'ok')).toBe(true);
  });

  it('does not post twice for one key', async () => {
    const provider = new WebhookProvider({ url, secret: SECRET });
    const a = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-2' });
    const b = await new WebhookProvider({ url, secret: SECRET }).create({ sizeClass: 'standard', idempotencyKey: 'job-2' });
    expect(b.id).toBe(a.id);
    expect(ops.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect(ops.servers.size).toBe(1);
  });

  it('deletes with a signed POST; a server already gone is no error', async () => {
    const provider = new WebhookProvider({ url, secret: SECRET });
    const s = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-3' });
    await provider.delete(s.id);
    expect(ops.seen.at(-1)).toMatchObject({ method: 'POST', url: `/ops/amphi/servers/${s.id}/delete`, verdict: 'ok' });
    expect(JSON.parse(ops.seen.at(-1)!.body)).toEqual({ id: s.id });
    expect(await provider.status(s.id)).toBe('gone');
    await provider.delete(s.id);
  });

  it('a wrong secret is refused by the operator, and the error quotes no secret', async () => {
    const provider = new WebhookProvider({ url, secret: 'not-the-secret-93af' });
    const err = (await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-4' }).catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('not-the-secret-93af');
    expect(ops.seen.map((s) => s.verdict)).toEqual(['refused']);
  });

  it('a clock off by more than 5 minutes is refused (no replay window)', async () => {
    const provider = new WebhookProvider({ url, secret: SECRET, now: () => Date.now() - 10 * 60_000 });
    await expect(provider.list()).rejects.toMatchObject({ status: 401 });
    expect(ops.seen.map((s) => s.verdict)).toEqual(['refused']);
  });

  it('errors name neither the answer nor the secrets in it', async () => {
    const provider = new WebhookProvider({ url, secret: SECRET });
    ops.answer = 'malformed';
    const err = (await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-5' }).catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toMatch(/unexpected answer \(status\)/);
    expect(err.message).not.toContain(BBB_SECRET);
    ops.answer = 'error';
    const down = (await provider.list().catch((e: unknown) => e)) as ProviderError;
    expect(down).toMatchObject({ status: 503, retryable: true });
    expect(down.message).not.toContain(BBB_SECRET);
    expect(down.message).not.toContain(SECRET);
  });

  it('refuses a URL with credentials or a query, and an empty secret', () => {
    expect(() => new WebhookProvider({ url: 'https://u:p@ops.example.org/', secret: SECRET })).toThrow(/credentials/);
    expect(() => new WebhookProvider({ url: 'https://ops.example.org/?token=1', secret: SECRET })).toThrow(/query/);
    expect(() => new WebhookProvider({ url, secret: '' })).toThrow(/secret/);
  });
});

describe('verifyWebhookSignature (for a Node receiver)', () => {
  const now = 1_750_000_000_000;
  const ts = String(now / 1000);
  const req = (over: Partial<{ method: string; target: string; body: string; ts: string; sig: string }> = {}) => ({
    method: over.method ?? 'POST',
    target: over.target ?? '/amphi/servers',
    body: over.body ?? '{"a":1}',
    headers: { 'x-amphi-timestamp': over.ts ?? ts, 'x-amphi-signature': over.sig ?? signWebhook(SECRET, ts, 'POST', '/amphi/servers', '{"a":1}') },
  });

  it('accepts the request as signed', () => {
    expect(verifyWebhookSignature(SECRET, req(), now)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, req(), now + 299_000)).toEqual({ ok: true });
  });

  it('refuses a replay after 5 minutes, another path, method or body, and another secret', () => {
    expect(verifyWebhookSignature(SECRET, req(), now + 301_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/replay/) });
    expect(verifyWebhookSignature(SECRET, req({ target: '/amphi/servers/x/delete' }), now)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(SECRET, req({ method: 'GET' }), now)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(SECRET, req({ body: '{"a":2}' }), now)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature('other', req(), now)).toMatchObject({ ok: false });
    // A timestamp moved forward to beat the window breaks the signature.
    expect(verifyWebhookSignature(SECRET, req({ ts: String(now / 1000 + 400) }), now + 400_000)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(verifyWebhookSignature(SECRET, req({ sig: 'sha256=00' }), now)).toMatchObject({ ok: false });
  });
});
