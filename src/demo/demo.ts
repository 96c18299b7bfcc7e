// The demo, assembled from the real pieces: simulated BBB servers registered in the store, the
// Amphi gateway listening on loopback, the poller measuring the servers, and the traffic
// driver playing a school morning through the gateway's BBB API. The CLI command and the
// integration test both use this; the command adds the terminal view and the signals.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { buildApp } from '../api/app.js';
import type { App } from '../api/app.js';
import type { Settings } from '../config/settings.js';
import { DEFAULT_SIZE_CLASSES, expectedMeetingLoad } from '../placement/load-model.js';
import { Poller, pollerSettings } from '../poller/poller.js';
import { SimServer } from '../simulator/index.js';
import type { Store } from '../state/store.js';
import { TrafficDriver } from '../traffic/driver.js';
import { generateSchedule } from '../traffic/model.js';
import type { Schedule } from '../traffic/model.js';
import { seededRandom } from '../traffic/random.js';
import { SnapshotCollector } from './collect.js';
import type { DemoServer } from './collect.js';

export interface ServerPlan {
  id: string;
  size: 'standard' | 'large';
  cores: number;
  capacity: number;
}

/** Mostly standard 8-core servers, and one or two 16-core ones for the big webinars. */
export function poolPlan(count: number): ServerPlan[] {
  const large = count >= 6 ? 2 : count >= 3 ? 1 : 0;
  const width = String(count).length < 2 ? 2 : String(count).length;
  return Array.from({ length: count }, (_, i) => {
    const size = i >= count - large ? 'large' : 'standard';
    return {
      id: `bbb-${String(i + 1).padStart(width, '0')}`,
      size,
      cores: size === 'large' ? 16 : 8,
      capacity: DEFAULT_SIZE_CLASSES[size] ?? 500,
    };
  });
}

/**
 * Meeting starts per simulated hour that bring the pool to about `target` of its capacity at
 * the top of the hour: a typical class (25 people on audio, a handful of cameras) weighs
 * about 70 load units, and a lesson lasts most of the hour.
 */
export function classesPerHourFor(capacity: number, target = 0.75): number {
  const typicalClass = expectedMeetingLoad(25, 6);
  return Math.max(2, Math.round((target * capacity) / typicalClass));
}

export interface DemoOptions {
  store: Store;
  redis: Redis;
  /** The gateway's settings; AMPHI_SECRET's first secret is the one the traffic signs with. */
  settings: Settings;
  servers: number;
  seed: number;
  /** Simulated ms per real ms. */
  speed: number;
  /** Real length of the run, in ms (the schedule covers it). */
  durationMs: number;
  /** Gateway port; 0 = any free port. */
  port: number;
  /** When the port is taken, listen on a free one instead of failing. */
  portFallback?: boolean;
  classesPerHour?: number;
  /** Simulated time of day at the start, minutes after midnight. Default 7:45. */
  startMinuteOfDay?: number;
  concurrency?: number;
  timeoutMs?: number;
}

const HOST = '127.0.0.1';

export class Demo {
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly secret: string;
  readonly schedule: Schedule;
  readonly servers: readonly DemoServer[];
  readonly driver: TrafficDriver;
  readonly collector: SnapshotCollector;
  readonly startMinuteOfDay: number;
  readonly classesPerHour: number;
  private readonly app: App;
  private readonly poller: Poller;
  private playing: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(init: {
    app: App;
    poller: Poller;
    gatewayUrl: string;
    secret: string;
    schedule: Schedule;
    servers: DemoServer[];
    driver: TrafficDriver;
    collector: SnapshotCollector;
    startMinuteOfDay: number;
    classesPerHour: number;
  }) {
    this.app = init.app;
    this.poller = init.poller;
    this.gatewayUrl = init.gatewayUrl;
    this.apiUrl = `${init.gatewayUrl}/bigbluebutton/api`;
    this.secret = init.secret;
    this.schedule = init.schedule;
    this.servers = init.servers;
    this.driver = init.driver;
    this.collector = init.collector;
    this.startMinuteOfDay = init.startMinuteOfDay;
    this.classesPerHour = init.classesPerHour;
  }

  /** Starts the servers, the gateway and the poller; the traffic starts with play(). */
  static async start(opts: DemoOptions): Promise<Demo> {
    const secret = opts.settings.AMPHI_SECRET?.[0];
    if (!secret) throw new Error('the demo needs AMPHI_SECRET: the traffic signs its BBB calls with it');
    const plan = poolPlan(opts.servers);
    const servers: DemoServer[] = [];
    let app: App | undefined;
    let poller: Poller | undefined;
    try {
      for (const p of plan) {
        const sim = await SimServer.start({ host: HOST, port: 0, cores: p.cores });
        servers.push({ id: p.id, size: p.size, capacity: p.capacity, sim });
        await opts.store.servers.add({ id: p.id, url: sim.apiUrl, secret: sim.secret, capacity: p.capacity, health: 'online' });
      }
      app = await buildApp({ store: opts.store, redis: opts.redis, settings: opts.settings, logger: false });
      const port = opts.portFallback && opts.port !== 0 && !(await portFree(opts.port)) ? 0 : opts.port;
      await app.app.listen({ host: HOST, port });
      const gatewayUrl = `http://${HOST}:${(app.app.server.address() as AddressInfo).port}`;

      poller = new Poller({ ...pollerSettings(opts.settings), store: opts.store });
      await poller.pollOnce();
      poller.start();

      const capacity = plan.reduce((sum, p) => sum + p.capacity, 0);
      const classesPerHour = opts.classesPerHour ?? classesPerHourFor(capacity);
      const startMinuteOfDay = opts.startMinuteOfDay ?? 7 * 60 + 45;
      const schedule = generateSchedule(
        { durationMs: opts.durationMs * opts.speed, classesPerHour, startMinuteOfDay, idPrefix: `class-s${opts.seed}` },
        seededRandom(opts.seed),
      );
      const driver = new TrafficDriver({
        apiUrl: `${gatewayUrl}/bigbluebutton/api`,
        secret,
        speed: opts.speed,
        concurrency: opts.concurrency,
        timeoutMs: opts.timeoutMs,
      });
      const collector = new SnapshotCollector({
        store: opts.store,
        fadeMs: opts.settings.AMPHI_RESERVATION_FADE_MS,
        servers,
        driver,
        metrics: app.gateway.metrics,
        apiUrl: `${gatewayUrl}/bigbluebutton/api`,
        secret,
        speed: opts.speed,
        startMinuteOfDay,
        durationMs: opts.durationMs,
        now: () => performance.now(),
      });
      return new Demo({ app, poller, gatewayUrl, secret, schedule, servers, driver, collector, startMinuteOfDay, classesPerHour });
    } catch (err) {
      await poller?.stop();
      await app?.app.close();
      await Promise.all(servers.map((s) => s.sim.close()));
      throw err;
    }
  }

  /** Plays the schedule; resolves when it is played out or stop() was called. */
  play(): Promise<void> {
    this.playing ??= this.driver.play(this.schedule.events);
    return this.playing;
  }

  /** Stops the traffic, the poller, the gateway and the servers, in that order. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.driver.close();
      await this.poller.stop();
      await this.app.app.close();
      await Promise.all(this.servers.map((s) => s.sim.close()));
    })();
    return this.stopped;
  }
}

/** Whether a loopback port can be bound right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}
