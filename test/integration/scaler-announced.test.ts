// `amphi scaler` forecasts from the meetings announced in Redis (src/state/announcements.ts):
// the role reads them before each step (src/cli/commands/scaler.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { parseScalerConfig } from '../../scaler/config.js';
import { SimulatedProvider } from '../../scaler/providers/simulated.js';
import type { ReconcileResult } from '../../scaler/reconcile.js';
import { startScalerRole } from '../../src/cli/commands/scaler.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { DEFAULT_LOAD_WEIGHTS, expectedMeetingLoad } from '../../src/placement/load-model.js';
import { Store } from '../../src/state/store.js';
import { capture } from '../helpers/cli-io.js';
import { testRedis, type TestRedis } from '../helpers/redis.js';

describe('the scaler role and announced meetings', () => {
  let t: TestRedis | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it("a step's forecast holds a meeting announced to start within the provisioning time", async () => {
    t = testRedis('scaler-announced');
    const store = new Store(t.redis, { namespace: t.prefix.slice(0, -1) });
    const startsAt = Date.now() + 3 * 60_000;
    const put = await store.announcements.put({ tenant: 'acme', meetingID: 'webinar', startsAt, endsAt: startsAt + 3_600_000, participants: 300, cameras: 1 }, { participants: 10_000 });
    expect(put).toEqual({ stored: true });
    const parsed = parseScalerConfig({ classes: { standard: { min: 0, max: 4 }, large: { min: 0, max: 2 } }, reconcileInterval: '1s', provisioningTime: '6m' });
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const runtime = { settings: loadSettings({ LOG_LEVEL: 'silent', AMPHI_METRICS_PORT: '0' }), log: createLogger('silent'), redisTarget: { kind: 'url' as const, url: t.url, tls: false }, redis: t.redis, store, close: async () => {} };
    const steps: ReconcileResult[] = [];
    const role = await startScalerRole(runtime, capture(), { file: 'test', config: parsed.config, providerSettings: { type: 'simulated' } }, new SimulatedProvider({ bootDelayMs: 0 }), {
      onStep: (r) => steps.push(r),
    });
    try {
      const deadline = Date.now() + 10_000;
      while (steps.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(steps.length).toBeGreaterThan(0);
      const forecast = steps[0]!.plan.forecast;
      expect(forecast.source).toBe('announced meetings');
      expect(forecast.total).toBe(expectedMeetingLoad(300, 1, DEFAULT_LOAD_WEIGHTS));
      // A webinar of 300 (about 530 units) fits no standard server (500): it is pinned to a large one.
      expect(forecast.byClass).toEqual({ large: forecast.total });
      expect(steps[0]!.plan.desired.large).toBeGreaterThanOrEqual(1);
    } finally {
      await role.stop();
    }
  });
});
