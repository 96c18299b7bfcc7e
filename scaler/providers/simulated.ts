// The `simulated` provider: a cloud in this process. A create boots a simulated BBB server
// (src/simulator) after a configurable delay; a seeded share of them fail to boot instead, so
// the demo, the tests and the morning scenario see the scaler cope with slow and failed boots
// the same way on every run with the same seed.
//
// The provider object *is* the simulated cloud: its servers and its key → server map live in
// it, as a real cloud's live in the cloud. Scaler replicas in one process (the scenario, the
// tests of a scaler killed mid-action) share one instance, as they would share one Scaleway
// project; a retried create with the same key then finds the server the first one asked for.
//
// Time: delays run on a clock that can be swapped (an accelerated clock for the scenario, a
// manual one in tests); only the boot itself (a loopback listener) takes real time.
//
// With `cluster`, servers are added to a running SimCluster (its control API and metrics then
// see them); with `host`, they run wherever it puts them (the scenario's own process for them);
// otherwise each is a standalone SimServer in this process, sized by its class (cores).
import { randomBytes } from 'node:crypto';
import { SimServer } from '../../src/simulator/index.js';
import type { SimCluster, SimServerOptions } from '../../src/simulator/index.js';
import { seededRandom } from '../../src/traffic/random.js';
import { checkIdempotencyKey, ProviderError, scalerTags } from './provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from './provider.js';

export interface ProviderClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The wall clock; timers are unref'd so a pending boot never holds the process open. */
export const systemClock: ProviderClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

type ServerOptions = Omit<SimServerOptions, 'host' | 'port' | 'secret' | 'secrets'>;

/** Starts and stops simulated servers somewhere else (another process); a server is its BBB API URL. */
export interface SimServerHost {
  start(secret: string, sizeClass: string): Promise<string>;
  stop(apiUrl: string): Promise<void>;
}

export interface SimulatedProviderOptions {
  /** From create to a server that answers. Default 6 minutes (DiViMS on Scaleway). */
  bootDelayMs?: number;
  /** Added to each boot delay, uniform in [0, jitter). Default 0. */
  bootJitterMs?: number;
  /** Share of creates that fail to boot (status `failed` once their delay is over), 0 to 1. Default 0. */
  failureRate?: number;
  /** Seed of the delays and failures. Default 1. */
  seed?: number;
  clock?: ProviderClock;
  /** Add the servers to this cluster instead of starting standalone servers. */
  cluster?: SimCluster;
  /** Start the servers there instead (ignored with `cluster`). */
  serverHost?: SimServerHost;
  /** Standalone servers: options by size class. Default: cores 4 / 8 / 16 for small / standard / large. */
  serverOptions?: (sizeClass: string) => ServerOptions;
  /** Default 127.0.0.1. */
  host?: string;
}

const CORES: Readonly<Record<string, number>> = { small: 4, standard: 8, large: 16 };

type Phase = 'booting' | 'starting' | 'running' | 'failed';

interface SimRecord {
  id: string;
  key: string;
  sizeClass: string;
  tags: Record<string, string>;
  secret: string;
  phase: Phase;
  willFail: boolean;
  timer: unknown;
  /** The boot under way, so a delete waits for it and stops what it started. */
  starting?: Promise<void>;
  server?: SimServer;
  clusterIndex?: number;
  /** A server on the `serverHost`. */
  hostedUrl?: string;
}

export class SimulatedProvider implements CloudProvider {
  readonly name = 'simulated';
  private readonly opts: SimulatedProviderOptions;
  private readonly clock: ProviderClock;
  private readonly random: () => number;
  private readonly records = new Map<string, SimRecord>();
  private readonly byKey = new Map<string, string>();
  private seq = 0;
  private closed = false;

  constructor(opts: SimulatedProviderOptions = {}) {
    const rate = opts.failureRate ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new Error('simulated provider: failureRate must be between 0 and 1');
    if ((opts.bootDelayMs ?? 0) < 0 || (opts.bootJitterMs ?? 0) < 0) throw new Error('simulated provider: delays must not be negative');
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.random = seededRandom(opts.seed ?? 1);
  }

  async create(req: CreateRequest): Promise<ProvisionedServer> {
    checkIdempotencyKey(this.name, req.idempotencyKey);
    if (this.closed) throw new ProviderError(this.name, 'closed', { retryable: false });
    const existing = this.byKey.get(req.idempotencyKey);
    if (existing !== undefined) return this.view(this.records.get(existing)!);

    // Two draws per create, always in this order: the same seed gives the same boots.
    const delay = (this.opts.bootDelayMs ?? 360_000) + this.random() * (this.opts.bootJitterMs ?? 0);
    const willFail = this.random() < (this.opts.failureRate ?? 0);
    const id = `sim-${++this.seq}`;
    const rec: SimRecord = {
      id,
      key: req.idempotencyKey,
      sizeClass: req.sizeClass,
      tags: scalerTags(req),
      secret: randomBytes(20).toString('hex'),
      phase: 'booting',
      willFail,
      timer: undefined,
    };
    rec.timer = this.clock.setTimeout(() => this.boot(rec), delay);
    this.records.set(id, rec);
    this.byKey.set(rec.key, id);
    return this.view(rec);
  }

  async delete(id: string): Promise<void> {
    const rec = this.records.get(id);
    if (!rec) return;
    this.records.delete(id);
    if (this.byKey.get(rec.key) === id) this.byKey.delete(rec.key);
    this.clock.clearTimeout(rec.timer);
    await rec.starting;
    await this.stop(rec);
  }

  async list(): Promise<ProvisionedServer[]> {
    return [...this.records.values()].map((r) => this.view(r));
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const rec = this.records.get(id);
    return rec && this.view(rec);
  }

  async status(id: string): Promise<ProviderServerStatus> {
    const rec = this.records.get(id);
    return rec ? statusOf(rec.phase) : 'gone';
  }

  /** Stops every server; later creates are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.records.keys()].map((id) => this.delete(id)));
  }

  private boot(rec: SimRecord): void {
    if (this.records.get(rec.id) !== rec || rec.phase !== 'booting') return;
    if (rec.willFail) {
      rec.phase = 'failed';
      return;
    }
    rec.phase = 'starting';
    rec.starting = this.start(rec).then(
      async () => {
        // Deleted while it started: stop what was started.
        if (this.records.get(rec.id) !== rec) await this.stop(rec);
        else rec.phase = 'running';
      },
      () => {
        rec.phase = 'failed';
      },
    );
  }

  private async start(rec: SimRecord): Promise<void> {
    const cluster = this.opts.cluster;
    if (cluster) {
      const { index, server } = await cluster.addServer({ secret: rec.secret });
      rec.clusterIndex = index;
      rec.server = server;
      return;
    }
    if (this.opts.serverHost) {
      rec.hostedUrl = await this.opts.serverHost.start(rec.secret, rec.sizeClass);
      return;
    }
    const options = this.opts.serverOptions?.(rec.sizeClass) ?? { cores: CORES[rec.sizeClass] ?? 8 };
    rec.server = await SimServer.start({ ...options, host: this.opts.host ?? '127.0.0.1', port: 0, secret: rec.secret });
  }

  private async stop(rec: SimRecord): Promise<void> {
    const { server, clusterIndex, hostedUrl } = rec;
    rec.server = undefined;
    rec.clusterIndex = undefined;
    rec.hostedUrl = undefined;
    if (clusterIndex !== undefined) await this.opts.cluster?.removeServer(clusterIndex);
    else if (hostedUrl !== undefined) await this.opts.serverHost?.stop(hostedUrl);
    else await server?.close();
  }

  private view(rec: SimRecord): ProvisionedServer {
    const apiUrl = rec.server?.apiUrl ?? rec.hostedUrl;
    return {
      id: rec.id,
      sizeClass: rec.sizeClass,
      status: statusOf(rec.phase),
      idempotencyKey: rec.key,
      // The simulator serves node-exporter CPU counters at /metrics beside its API.
      ...(rec.phase === 'running' && apiUrl !== undefined ? { apiUrl, metricsUrl: new URL('/metrics', apiUrl).href } : {}),
      secret: rec.secret,
      tags: { ...rec.tags },
    };
  }
}

function statusOf(phase: Phase): ProviderServerStatus {
  return phase === 'running' ? 'running' : phase === 'failed' ? 'failed' : 'booting';
}
