// A Redis that keeps the connection open but stops answering (a stalled server, a network
// partition that sends no RST) must fail commands after AMPHI_REDIS_COMMAND_TIMEOUT_MS, not hang
// them: no reconnect notices it, and a hung command holds a BBB request or /ready forever.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { bootRuntime } from '../../src/cli/runtime.js';
import { createRedis, DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../../src/redis/connect.js';
import { capture } from '../helpers/cli-io.js';

/** A TCP relay to the test Redis on 127.0.0.1 that can be told to stop relaying anything. */
async function stallableRelay(target: string): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let stalled = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => stalled || to.write(chunk));
      from.on('error', () => {});
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stall: () => (stalled = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Redis command timeout', () => {
  let relay: Awaited<ReturnType<typeof stallableRelay>>;
  const clients: Redis[] = [];
  const client = (...args: Parameters<typeof createRedis>): Redis => {
    const c = createRedis(...args);
    c.on('error', () => {});
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    relay = await stallableRelay(inject('redisUrl'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await relay.close();
  });

  it('fails a command against a Redis that stopped answering within the timeout', async () => {
    const redis = client(relay.url, { commandTimeout: 200 });
    expect(await redis.ping()).toBe('PONG');
    relay.stall();
    const started = Date.now();
    await expect(redis.ping()).rejects.toThrow('Command timed out');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('has a timeout by default, and none when opted out (for blocking commands)', async () => {
    expect(client(relay.url).options.commandTimeout).toBe(DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
    const blocking = client(relay.url, { commandTimeout: null, maxRetriesPerRequest: null });
    expect(blocking.options.commandTimeout).toBeUndefined();
    expect(await blocking.ping()).toBe('PONG');
    relay.stall();
    const outcome = await Promise.race([
      blocking.ping().then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500)),
    ]);
    expect(outcome).toBe('still waiting');
  });

  it('is AMPHI_REDIS_COMMAND_TIMEOUT_MS in the runtime of the long-running roles', async () => {
    const runtime = await bootRuntime({ REDIS_URL: relay.url, AMPHI_REDIS_COMMAND_TIMEOUT_MS: '150' }, capture(), { privateRedis: 'opt-in' });
    try {
      expect(runtime.redis.options.commandTimeout).toBe(150);
      expect(await runtime.redis.ping()).toBe('PONG');
      relay.stall();
      await expect(runtime.redis.ping()).rejects.toThrow('Command timed out');
    } finally {
      runtime.redis.disconnect();
    }
  });
});
