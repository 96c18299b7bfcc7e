// A pool of simulated BBB servers in one process, plus one cluster control listener. Servers
// keep their index for life (removing one never renumbers the others), so a test, the demo or
// the autoscaler's simulated provider can name a server by index or by URL.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleClusterControl } from './cluster-control.js';
import type { Fault } from './faults.js';
import { renderMetrics } from './sim-metrics.js';
import { SimServer } from './sim-server.js';
import type { SimServerOptions } from './sim-server.js';

export interface SimClusterOptions {
  /** Servers started at once. Default 1. */
  servers?: number;
  /** Server i listens on basePort + i; default ephemeral ports. */
  basePort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** One secret shared by every server; default a random secret per server. */
  secret?: string;
  /** Port of the cluster control API; default ephemeral. `false` = no control listener. */
  controlPort?: number | false;
  /** Options for every server (cores, algorithms, model rules, …). */
  server?: Omit<SimServerOptions, 'host' | 'port' | 'secret' | 'secrets'>;
}

export interface SimServerEntry {
  index: number;
  /** The BBB API base: `http://127.0.0.1:PORT/bigbluebutton/api`. */
  url: string;
  secret: string;
  fault: Fault;
  load: number;
  meetings: number;
  participants: number;
  videos: number;
}

export interface AddServerOptions {
  secret?: string;
  port?: number;
}

export class SimCluster {
  readonly host: string;
  private readonly opts: SimClusterOptions;
  private readonly byIndex = new Map<number, SimServer>();
  private nextIndex = 0;
  private control: Server | undefined;
  private readonly controlSockets = new Set<Socket>();
  private closed = false;

  private constructor(opts: SimClusterOptions) {
    this.opts = opts;
    this.host = opts.host ?? '127.0.0.1';
  }

  static async start(opts: SimClusterOptions = {}): Promise<SimCluster> {
    const cluster = new SimCluster(opts);
    try {
      const n = Math.max(0, Math.floor(opts.servers ?? 1));
      await Promise.all(Array.from({ length: n }, () => cluster.addServer()));
      if (opts.controlPort !== false) await cluster.startControl(opts.controlPort ?? 0);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** `http://127.0.0.1:PORT` of the control API, when it runs. */
  get controlUrl(): string | undefined {
    const address = this.control?.address();
    return address && typeof address === 'object' ? `http://${this.host}:${address.port}` : undefined;
  }

  get size(): number {
    return this.byIndex.size;
  }

  server(index: number): SimServer | undefined {
    return this.byIndex.get(index);
  }

  /** Live servers in index order. */
  servers(): { index: number; server: SimServer }[] {
    return [...this.byIndex.entries()].sort(([a], [b]) => a - b).map(([index, server]) => ({ index, server }));
  }

  /** Adds a server at run time: the next index, port basePort+index when a base was given. */
  async addServer(overrides: AddServerOptions = {}): Promise<{ index: number; server: SimServer }> {
    if (this.closed) throw new Error('simulated cluster is closed');
    // Claimed before the await so that parallel adds get distinct indexes and ports.
    const index = this.nextIndex++;
    const port = overrides.port ?? (this.opts.basePort === undefined ? 0 : this.opts.basePort + index);
    const secret = overrides.secret ?? this.opts.secret ?? randomBytes(20).toString('hex');
    const server = await SimServer.start({ ...this.opts.server, host: this.host, port, secret });
    if (this.closed) {
      await server.close();
      throw new Error('simulated cluster is closed');
    }
    this.byIndex.set(index, server);
    return { index, server };
  }

  /** Stops and forgets a server: its port refuses connections afterwards. */
  async removeServer(index: number): Promise<boolean> {
    const server = this.byIndex.get(index);
    if (!server) return false;
    this.byIndex.delete(index);
    await server.close();
    return true;
  }

  entry(index: number): SimServerEntry | undefined {
    const server = this.byIndex.get(index);
    if (!server) return undefined;
    const t = server.totals();
    return {
      index,
      url: server.apiUrl,
      secret: server.secret,
      fault: server.fault,
      load: t.load,
      meetings: t.meetings,
      participants: t.participants,
      videos: t.videos,
    };
  }

  list(): SimServerEntry[] {
    return this.servers().map(({ index }) => this.entry(index)!);
  }

  /** What a gateway's pool configuration needs. */
  endpoints(): { url: string; secret: string }[] {
    return this.servers().map(({ server }) => ({ url: server.apiUrl, secret: server.secret }));
  }

  /** Every server's gauges in one scrape, labelled server="<index>". */
  metrics(): string {
    return renderMetrics(
      this.servers().map(({ index, server }) => ({
        labels: { server: String(index) },
        up: server.up,
        fault: server.fault.mode,
        totals: server.totals(),
      })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const servers = [...this.byIndex.values()];
    this.byIndex.clear();
    const control = this.control;
    this.control = undefined;
    await Promise.all([
      ...servers.map((s) => s.close()),
      control
        ? new Promise<void>((resolve) => {
            control.close(() => resolve());
            for (const s of this.controlSockets) s.destroy();
          })
        : Promise.resolve(),
    ]);
  }

  private startControl(port: number): Promise<void> {
    const server = createServer((req, res) => this.onControl(req, res));
    server.on('connection', (socket: Socket) => {
      this.controlSockets.add(socket);
      socket.once('close', () => this.controlSockets.delete(socket));
    });
    this.control = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private onControl(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Control bodies are tiny JSON objects; anything big is a mistake.
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      handleClusterControl(this, req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8')).then(
        (r) => {
          res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
          res.end(r.body);
        },
        (err: unknown) => {
          const body = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
          res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
          res.end(body);
        },
      );
    });
  }
}
