// What the processes say about their Redis in public or on stderr: /ready's 503 names no
// internal address (the log gets the detail), and a role's start-up line names the target
// without its password.
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { bootRuntime } from '../../src/cli/runtime.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { createRedis } from '../../src/redis/connect.js';
import { Store } from '../../src/state/store.js';
import { capture } from '../helpers/cli-io.js';

describe('/ready with Redis down', () => {
  it('answers 503 with a generic reason, and logs the error', async () => {
    // Nothing listens on port 1: every command fails fast, naming the address.
    const redis = createRedis('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: true });
    const settings = loadSettings({ AMPHI_SECRET: 'ready-secret', LOG_LEVEL: 'info' });
    const lines: string[] = [];
    const logger = createLogger('warn', (line) => void lines.push(line));
    const { app } = await buildApp({ store: new Store(redis), redis, settings, logger });
    try {
      const res = await app.inject({ url: '/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', reason: 'redis unavailable' });
      expect(res.body).not.toContain('127.0.0.1');
      expect(lines.join('')).toContain('ready: Redis does not answer');
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});

describe("a role's start-up", () => {
  it('prints its Redis on stderr, without the password', async () => {
    const io = capture();
    const runtime = await bootRuntime({ REDIS_URL: 'redis://:hunter2@127.0.0.1:1/0', LOG_LEVEL: 'silent', AMPHI_REDIS_WAIT_REPLICAS: '1' }, io, { privateRedis: 'opt-in' });
    try {
      expect(io.err).toContain('amphi: Redis redis://:***@127.0.0.1:1/0\n');
      expect(io.err).not.toContain('hunter2');
    } finally {
      runtime.redis.disconnect();
      await runtime.close();
    }
  });
});
