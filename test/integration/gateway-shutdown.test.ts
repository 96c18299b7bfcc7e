// Shutdown of the gateway's HTTP server (app.close(), which is the gateway role's stop): /ready
// turns 503 at once while the requests in flight complete, and keep-alive connections do not
// hold the close open for their keep-alive timeout.
import { request, Agent } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/app.js';
import { loadSettings } from '../../src/config/settings.js';
import { Store } from '../../src/state/store.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

describe('gateway shutdown', () => {
  let t: TestRedis;
  let built: App;
  let port: number;
  let release: () => void;
  let slowStarted: Promise<void>;

  beforeEach(async () => {
    t = testRedis('shutdown');
    const settings = loadSettings({ LOG_LEVEL: 'silent', AMPHI_SECRET: 'shutdown-test-secret' });
    built = await buildApp({ store: new Store(t.redis, { namespace: t.prefix.slice(0, -1) }), redis: t.redis, settings, logger: false });
    // A request that stays in flight until the test releases it.
    const held = new Promise<void>((resolve) => (release = resolve));
    let started: () => void;
    slowStarted = new Promise((resolve) => (started = resolve));
    built.app.get('/test/slow', async () => {
      started();
      await held;
      return { slow: 'done' };
    });
    await built.app.listen({ host: '127.0.0.1', port: 0 });
    port = (built.app.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    release();
    await built.app.close();
    await t.cleanup();
  });

  it('answers /ready 503 {status: stopping} as soon as close begins, while a request in flight completes', async () => {
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);

    // One connection, two pipelined requests: the second is read (and answered) while the first is
    // still in flight, after close() has begun.
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /test/slow HTTP/1.1\r\nHost: amphi\r\n\r\n');
    await slowStarted;

    const closing = built.app.close();
    await expect.poll(() => built.app.server.listening).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/ready`)).rejects.toThrow(); // no new connections
    socket.write('GET /ready HTTP/1.1\r\nHost: amphi\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toBe(''); // the slow answer comes first, and it is not there yet

    release();
    await ended; // the server closes the connection after the last answer
    await closing;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\n\{"slow":"done"\}$/);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503 [^]*\r\nconnection: close\r\n[^]*\r\n\r\n\{"status":"stopping"\}$/i);
  });

  it('closes a keep-alive connection once its request in flight is answered, not after the keep-alive timeout', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const answer = new Promise<{ status?: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/test/slow', agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        })
          .on('error', reject)
          .end();
      });
      await slowStarted;
      const started = Date.now();
      const closing = built.app.close();
      setTimeout(release, 200);
      expect(await answer).toEqual({ status: 200, body: '{"slow":"done"}' });
      await closing;
      // Without closing idle connections during shutdown this takes the 65 s keep-alive timeout.
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      agent.destroy();
    }
  });
});
