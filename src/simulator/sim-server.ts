// One simulated BBB server: a plain node:http listener on loopback that serves the BBB API,
// the HTML5 client's entry point, a JSON control API and /metrics, with run-time fault
// injection. Everything else (rules, rendering, load) lives in the pure modules it wires up.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ALL_ALGORITHMS } from '../bbb/checksum.js';
import type { ChecksumAlgorithm } from '../bbb/checksum.js';
import { DEFAULT_SLOW_MS, ERROR_500, NO_FAULT, malform } from './faults.js';
import type { Fault, FaultMode } from './faults.js';
import { DEFAULT_CORES, serverLoad } from './load.js';
import type { LoadConstants } from './load.js';
import { MeetingModel } from './meeting-model.js';
import type { MeetingModelOptions } from './meeting-model.js';
import { handleApiRequest } from './sim-api.js';
import type { ApiContext } from './sim-api.js';
import { CLIENT_JOIN_PATH, handleClientRequest } from './sim-client.js';
import { addUsers, handleControlRequest, parseAddUsersSpec } from './sim-control.js';
import type { AddUsersResult, AddUsersSpec, ControlContext } from './sim-control.js';
import { NodeCpuCounters, renderMetrics } from './sim-metrics.js';
import { meetingViews, serverTotals } from './sim-state.js';
import type { MeetingView, ServerTotals } from './sim-state.js';
import { textResponse } from './sim-response.js';
import type { SimResponse } from './sim-response.js';

export interface SimServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). Recovery from `down` reuses the port actually bound. */
  port?: number;
  /** One secret; ignored when `secrets` is given. Default: 40 random hex chars. */
  secret?: string;
  /** Several accepted secrets (rotation); the first is the one advertised. */
  secrets?: readonly string[];
  /** Accepted checksum algorithms (bbb-web `supportedChecksumAlgorithms`). Default all four. */
  algorithms?: readonly ChecksumAlgorithm[];
  cores?: number;
  loadConstants?: Readonly<LoadConstants>;
  /** Index call's bbbVersion; default '' (allowRevealOfBBBVersion=false). */
  bbbVersion?: string;
  /** Housekeeping period (expiry, end removal). 0 = no timer (call `sweep()`). Default 5 s. */
  sweepIntervalMs?: number;
  /** Largest request body read. Default 8 MiB. */
  maxBodyBytes?: number;
  model?: MeetingModelOptions;
}

export interface SimServerState {
  url: string;
  secret: string;
  fault: Fault;
  totals: ServerTotals;
  meetings: MeetingView[];
}

const isFaultable = (path: string): boolean => path.startsWith('/bigbluebutton/') || path.startsWith('/html5client/');

/** API calls that change nothing: no CPU counter update after them (getMeetings is polled often). */
const READ_ONLY_CALLS = /\/(getMeetings|getMeetingInfo|isMeetingRunning|getRecordings|getRecordingTextTracks)$/;
const isReadOnly = (method: string, path: string): boolean =>
  (method === 'GET' || method === 'HEAD') && (path === '/bigbluebutton/api' || path === '/bigbluebutton/api/' || READ_ONLY_CALLS.test(path));

export class SimServer {
  readonly host: string;
  readonly secrets: readonly string[];
  readonly model: MeetingModel;
  readonly cores: number;
  private readonly algorithms: readonly ChecksumAlgorithm[];
  private readonly loadConstants: Readonly<LoadConstants> | undefined;
  private readonly bbbVersion: string;
  private readonly maxBodyBytes: number;
  private readonly server: Server;
  private boundPort: number;
  private currentFault: Fault = { ...NO_FAULT };
  private listening = false;
  private closed = false;
  private transition: Promise<void> = Promise.resolve();
  private userSeq = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Requests held by `hang`, and timers of `slow`: released on recovery and close. */
  private readonly hung = new Set<ServerResponse>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private apiContext: ApiContext | undefined;
  private readonly controlContext: ControlContext;
  /** node_exporter's CPU counters, integrated from the CPU figure (see observeCpu). */
  private readonly cpu: NodeCpuCounters;

  private constructor(opts: SimServerOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.boundPort = opts.port ?? 0;
    const secrets = opts.secrets?.length ? opts.secrets : [opts.secret ?? randomBytes(20).toString('hex')];
    this.secrets = [...secrets];
    this.algorithms = opts.algorithms ?? ALL_ALGORITHMS;
    this.cores = opts.cores ?? DEFAULT_CORES;
    this.loadConstants = opts.loadConstants;
    this.bbbVersion = opts.bbbVersion ?? '';
    this.maxBodyBytes = opts.maxBodyBytes ?? 8 * 1024 * 1024;
    this.model = new MeetingModel({
      playbackUrl: (id) => `${this.baseUrl}/playback/presentation/2.3/${id}`,
      ...opts.model,
    });
    this.cpu = new NodeCpuCounters(this.cores, this.model.now);
    this.server = createServer((req, res) => this.onRequest(req, res));
    // Tracked so `down` and close() can cut keep-alive and hung connections at once.
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.controlContext = {
      model: this.model,
      clientUrl: () => this.clientUrl,
      nextUserSeq: () => ++this.userSeq,
      state: (withUsers) => this.state(withUsers),
      metrics: () => this.metrics(),
      setFault: (fault) => this.setFault(fault.mode, fault.latencyMs),
    };
    const sweepMs = opts.sweepIntervalMs ?? 5000;
    if (sweepMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
      this.sweepTimer.unref();
    }
  }

  static async start(opts: SimServerOptions = {}): Promise<SimServer> {
    const server = new SimServer(opts);
    try {
      await server.listen();
    } catch (err) {
      if (server.sweepTimer) clearInterval(server.sweepTimer);
      throw err;
    }
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `http://127.0.0.1:PORT` */
  get baseUrl(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  /** The BBB API base a client is configured with: `…/bigbluebutton/api`. */
  get apiUrl(): string {
    return `${this.baseUrl}/bigbluebutton/api`;
  }

  get secret(): string {
    return this.secrets[0]!;
  }

  /** Where join redirects: `…/html5client/join` (2.x form; ?sessionToken= is appended). */
  get clientUrl(): string {
    return `${this.baseUrl}${CLIENT_JOIN_PATH}`;
  }

  get fault(): Fault {
    return { ...this.currentFault };
  }

  /**
   * Switches the fault mode. `down` closes the listener and every connection; leaving `down`
   * listens again on the same port. Leaving `hang` destroys the held sockets.
   */
  setFault(mode: FaultMode, latencyMs?: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('simulated server is closed'));
    // Transitions run one after the other, so a quick down/up/down never races the listener.
    const run = async (): Promise<void> => {
      if (this.closed) throw new Error('simulated server is closed');
      const previous = this.currentFault.mode;
      this.currentFault = { mode, latencyMs: Math.max(0, latencyMs ?? (mode === 'slow' ? DEFAULT_SLOW_MS : 0)) };
      if (previous === 'hang' && mode !== 'hang') this.releaseHung();
      if (mode === 'down' && this.listening) await this.unlisten();
      else if (mode !== 'down' && !this.listening) await this.listen();
    };
    const next = this.transition.then(run);
    this.transition = next.catch(() => undefined);
    return next;
  }

  /** Requests the `hang` fault is holding right now. */
  get heldRequests(): number {
    return this.hung.size;
  }

  /** The CPU-like figure (load.ts), percent of all cores. */
  load(): number {
    return this.totals().load;
  }

  totals(): ServerTotals {
    return serverTotals(this.model, { cores: this.cores, constants: this.loadConstants });
  }

  state(withUsers = true): SimServerState {
    return {
      url: this.apiUrl,
      secret: this.secret,
      fault: this.fault,
      totals: this.totals(),
      meetings: meetingViews(this.model, withUsers),
    };
  }

  /** The API answers normally in these modes (bbb_api_up). */
  get up(): boolean {
    return this.currentFault.mode === 'none' || this.currentFault.mode === 'slow';
  }

  /**
   * The server's /metrics: the BBB exporter's gauges, the CPU figure, and node_exporter's
   * `node_cpu_seconds_total{cpu,mode}` counters, as a real server exports them (Amphi's poller
   * reads these, never the simulator's own figure).
   */
  metrics(): string {
    const totals = this.totals();
    this.cpu.observe(totals.load);
    return renderMetrics([{ up: this.up, fault: this.currentFault.mode, totals }]) + this.cpu.render();
  }

  /** The CPU counters as of now (tests): seconds per core in each mode since start. */
  cpuSeconds(): { idle: number; user: number; system: number } {
    this.observeCpu();
    return { idle: this.cpu.perCore('idle'), user: this.cpu.perCore('user'), system: this.cpu.perCore('system') };
  }

  /**
   * Brings the CPU counters up to now: the time since the last observation is counted at the
   * figure then in force, and the figure of the meetings as they are now applies from here.
   * Called after everything that may change the meetings (API and control calls, the client's
   * entry, housekeeping) and at each scrape. Changes made on `model` directly count from the
   * next observation.
   */
  observeCpu(): void {
    this.cpu.observe(serverLoad(this.model.loadInputs(), { cores: this.cores, constants: this.loadConstants }));
  }

  /** Users who join and enter directly, through the model's rules (the control API's call). */
  addUsers(meetingID: string, spec: Partial<AddUsersSpec> = {}): AddUsersResult {
    const parsed = parseAddUsersSpec(spec);
    if (typeof parsed === 'string') throw new Error(parsed);
    try {
      return addUsers(this.model, meetingID, parsed, this.clientUrl, () => ++this.userSeq);
    } finally {
      this.observeCpu();
    }
  }

  /** Runs the housekeeping now (tests with an injected clock). */
  sweep(): number {
    const removed = this.model.sweep();
    this.observeCpu();
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    this.releaseHung();
    // A transition under way (e.g. re-listening) finishes first; then the port is released.
    await this.transition;
    if (this.listening) await this.unlisten();
  }

  // ---------------------------------------------------------------- listener

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address && typeof address === 'object') this.boundPort = address.port;
        this.listening = true;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    this.listening = false;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Keep-alive and held sockets would keep close() waiting: a dead server drops them.
      for (const s of this.sockets) s.destroy();
      this.hung.clear();
    });
  }

  private releaseHung(): void {
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }

  // ---------------------------------------------------------------- requests

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (!isFaultable(path)) {
      void this.readBody(req).then((body) => {
        if (body === undefined) return send(res, textResponse(413, 'request body too large\n'));
        return handleControlRequest(this.controlContext, method, url, body).then(
          (r) => {
            // /metrics observes itself; other control calls may have added users.
            if (path !== '/metrics') this.observeCpu();
            send(res, r ?? textResponse(404, 'not found\n'));
          },
          (err: unknown) => send(res, textResponse(500, `${err instanceof Error ? err.message : String(err)}\n`)),
        );
      });
      return;
    }

    const fault = this.currentFault;
    if (fault.mode === 'hang') {
      this.hung.add(res);
      res.once('close', () => this.hung.delete(res));
      req.resume();
      return;
    }
    if (fault.mode === 'error500') {
      req.resume();
      send(res, ERROR_500);
      return;
    }
    const serve = (): void => {
      // GET carries no body: answer without waiting for 'end' (the hot path in benchmarks).
      if (method === 'GET' || method === 'HEAD') {
        req.resume();
        this.answer(res, method, url, req.headers['content-type'], '', fault.mode === 'malformed');
        return;
      }
      void this.readBody(req).then((body) => {
        if (body === undefined) return send(res, textResponse(413, 'request body too large\n'));
        this.answer(res, method, url, req.headers['content-type'], body, fault.mode === 'malformed');
      });
    };
    if (fault.mode === 'slow' && fault.latencyMs > 0) {
      const timer = setTimeout(() => {
        this.delayed.delete(timer);
        serve();
      }, fault.latencyMs);
      this.delayed.add(timer);
      return;
    }
    serve();
  }

  private answer(res: ServerResponse, method: string, url: string, contentType: string | undefined, body: string, broken: boolean): void {
    const ctx = (this.apiContext ??= {
      model: this.model,
      secrets: this.secrets,
      algorithms: this.algorithms,
      baseUrl: this.baseUrl,
      clientUrl: this.clientUrl,
      bbbVersion: this.bbbVersion,
    });
    const r =
      handleApiRequest(ctx, { method, url, contentType, body }) ??
      handleClientRequest(this.model, method, url) ??
      textResponse(404, 'not found\n');
    const q = url.indexOf('?');
    if (!isReadOnly(method, q === -1 ? url : url.slice(0, q))) this.observeCpu();
    send(res, broken ? malform(r) : r);
  }

  /** The body as text, or undefined when it exceeds the limit (the connection is then closed). */
  private readBody(req: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        if (tooLarge) return;
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          tooLarge = true;
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (!tooLarge) resolve(Buffer.concat(chunks).toString('utf8'));
      });
      req.on('error', () => resolve(undefined));
    });
  }
}

function send(res: ServerResponse, r: SimResponse): void {
  if (res.headersSent || res.destroyed) return;
  try {
    res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
    res.end(r.body);
  } catch {
    // A header Node refuses: a 500, as a servlet container would answer, never a crash.
    if (!res.headersSent) res.writeHead(500).end();
  }
}
