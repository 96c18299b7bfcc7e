// Plays a traffic schedule against a BBB API endpoint (the Amphi gateway), the way an LMS and
// browsers would: the LMS signs create/join/end calls; a browser follows the join redirects
// one hop at a time until it reaches the server's HTML5 client, which is when the user enters
// and starts to count. Cameras, microphones and leaving have no BBB API call: in the
// simulator they go through its per-server control API, with the session token the join gave.
//
// Time is compressed (`speed` simulated ms per real ms, or a varying speed given as the real
// offset of each simulated one). Requests run with bounded
// concurrency, each with a timeout; events of one user run in order, and a meeting's joins
// wait for its create. Everything that happens is counted, nothing throws.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { BbbClient, BbbClientError } from '../bbb/client.js';
import { Sleeper } from '../util/sleeper.js';
import type { AudioEvent, CameraEvent, CreateEvent, EndEvent, JoinEvent, LeaveEvent, TrafficEvent } from './model.js';

export interface DriverOptions {
  /** The BBB API base to drive, e.g. `http://127.0.0.1:8090/bigbluebutton/api`. */
  apiUrl: string;
  secret: string;
  /** Simulated ms per real ms: 60 plays an hour of school in a minute. Default 60. */
  speed?: number;
  /** When an event `at` simulated ms into the schedule is due, in real ms after play(); overrides `speed` (a varying speed). */
  realOffset?: (at: number) => number;
  /** Requests (or join flows) in flight at once. Default 64. */
  concurrency?: number;
  /** Bound on every HTTP request. Default 5000 ms. */
  timeoutMs?: number;
  /** Redirects a browser follows on one join before giving up. Default 5. */
  maxRedirects?: number;
  /** Real clock in ms, for scheduling and lag. Default performance.now. */
  now?: () => number;
  /** Extra parameters of every create (e.g. an LMS's own meta_ fields). */
  createParams?: Readonly<Record<string, string>>;
}

export interface TrafficCounters {
  /** Events handed to play(). */
  events: number;
  /** Events whose time came and that were dispatched. */
  dispatched: number;
  /** Creates sent to the gateway (one waiting for a slot when the driver stops is not). */
  creates: number;
  created: number;
  /** Creates the API answered FAILED, by messageKey (e.g. noAvailableServers). */
  createFailed: Record<string, number>;
  /** Join attempts (signed join URL opened). */
  joins: number;
  /** Joins a server accepted (redirect to its client with a session token). */
  joined: number;
  /** Users whose client loaded: they are in the meeting and count. */
  entered: number;
  /** Joins refused, by BBB messageKey (from the `errors=` redirect or the client's answer). */
  refused: Record<string, number>;
  left: number;
  ended: number;
  cameraOn: number;
  cameraOff: number;
  /** Cameras the server refused, by reason (meeting or user camera cap, lock). */
  cameraRefused: Record<string, number>;
  audioChanges: number;
  /** Events not sent because what they need did not happen (meeting not created, user not in). */
  skipped: number;
  /** Sessions or meetings already gone (ended by the teacher, expired). */
  gone: number;
  /** Unexpected answers and transport failures, by `call: reason`. */
  errors: Record<string, number>;
  lastError: string;
  /** HTTP requests sent, to the gateway and to the servers. */
  requests: number;
  gatewayRequests: number;
  inFlight: number;
  /** Work waiting for a concurrency slot. */
  queued: number;
  /** How late the last dispatched event was against its scheduled time, in real ms. */
  lagMs: number;
  maxLagMs: number;
  /** How late the latest join was sent (after waiting for its create and for a slot), against its scheduled time, in real ms. */
  joinLagMs: number;
  maxJoinLagMs: number;
}

export const emptyCounters = (): TrafficCounters => ({
  events: 0,
  dispatched: 0,
  creates: 0,
  created: 0,
  createFailed: {},
  joins: 0,
  joined: 0,
  entered: 0,
  refused: {},
  left: 0,
  ended: 0,
  cameraOn: 0,
  cameraOff: 0,
  cameraRefused: {},
  audioChanges: 0,
  skipped: 0,
  gone: 0,
  errors: {},
  lastError: '',
  requests: 0,
  gatewayRequests: 0,
  inFlight: 0,
  queued: 0,
  lagMs: 0,
  maxLagMs: 0,
  joinLagMs: 0,
  maxJoinLagMs: 0,
});

export const sumOf = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

interface Session {
  /** Origin of the server the user entered, where its control API lives. */
  base: string;
  token: string;
  meeting: string;
}

interface HttpAnswer {
  status: number;
  location: string | undefined;
  body: string;
}

/** Thrown when a request should not be sent because the driver is stopping. */
class Stopped extends Error {}

const ERRORS_PARAM = 'errors';
const CLIENT_JOIN_PATH = '/html5client/join';

export class TrafficDriver {
  readonly counters: TrafficCounters = emptyCounters();
  private readonly client: BbbClient;
  private readonly gatewayOrigin: string;
  private readonly agent: Agent;
  private readonly realOffset: (at: number) => number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly now: () => number;
  private readonly createParams: Readonly<Record<string, string>>;
  private readonly meetingReady = new Map<string, Promise<boolean | undefined>>();
  private readonly userChain = new Map<string, Promise<void>>();
  private readonly sessions = new Map<string, Session>();
  private readonly meetingUsers = new Map<string, Set<string>>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private playing: Promise<void> | undefined;
  private playStart = 0;
  private closed = false;

  constructor(opts: DriverOptions) {
    const speed = opts.speed ?? 60;
    if (!(speed > 0)) throw new Error('speed must be positive');
    this.realOffset = opts.realOffset ?? ((at) => at / speed);
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 64));
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.now = opts.now ?? (() => performance.now());
    this.createParams = opts.createParams ?? {};
    // Its own connection pool, so closing the driver closes every socket it opened.
    this.agent = new Agent({ connections: this.concurrency, keepAliveTimeout: 10_000, connect: { timeout: this.timeoutMs } });
    this.client = new BbbClient({ apiUrl: opts.apiUrl, secret: opts.secret, timeoutMs: this.timeoutMs, dispatcher: this.agent });
    this.gatewayOrigin = new URL(opts.apiUrl).origin;
  }

  /** Users inside a meeting right now, as far as the driver knows. */
  get inside(): number {
    return this.sessions.size;
  }

  /**
   * Plays the events at their (compressed) times from now; resolves when every event was
   * played and answered, or soon after stop().
   */
  play(events: readonly TrafficEvent[]): Promise<void> {
    if (this.playing) throw new Error('the driver is already playing a schedule');
    this.playing = this.run(events);
    return this.playing;
  }

  /** Stops dispatching, drops queued work and waits for the requests in flight (bounded by their timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    for (const release of this.waiting.splice(0)) release();
    await this.playing;
    await Promise.allSettled([...this.tasks]);
  }

  /** Stops, then closes the connections. */
  async close(): Promise<void> {
    await this.stop();
    if (this.closed) return;
    this.closed = true;
    await this.agent.close();
  }

  private async run(events: readonly TrafficEvent[]): Promise<void> {
    this.counters.events += events.length;
    const start = this.now();
    this.playStart = start;
    for (const event of events) {
      if (this.stopped) break;
      const due = start + this.realOffset(event.at);
      const wait = due - this.now();
      // Events a millisecond apart go out together: one timer per batch, not per event.
      if (wait > 1) await this.sleeper.sleep(wait);
      if (this.stopped) break;
      const lag = Math.max(0, this.now() - due);
      this.counters.lagMs = Math.round(lag);
      this.counters.maxLagMs = Math.max(this.counters.maxLagMs, this.counters.lagMs);
      this.counters.dispatched++;
      this.dispatch(event);
    }
    // Settled in rounds: a finishing task may have chained another.
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private dispatch(event: TrafficEvent): void {
    switch (event.kind) {
      case 'create': {
        const ready = this.track(this.create(event));
        this.meetingReady.set(event.meeting, ready);
        return;
      }
      case 'end':
        this.track(this.end(event));
        return;
      default:
        this.chainUser(event);
    }
  }

  /** A user's events run one after the other, in schedule order. */
  private chainUser(event: JoinEvent | CameraEvent | AudioEvent | LeaveEvent): void {
    const previous = this.userChain.get(event.user) ?? Promise.resolve();
    const next = this.track(previous.then(() => this.userEvent(event)));
    this.userChain.set(event.user, next);
    if (event.kind === 'leave') {
      void next.then(() => {
        if (this.userChain.get(event.user) === next) this.userChain.delete(event.user);
      });
    }
  }

  private userEvent(event: JoinEvent | CameraEvent | AudioEvent | LeaveEvent): Promise<void> {
    switch (event.kind) {
      case 'join':
        return this.join(event);
      case 'camera':
        return this.control(event, 'camera', { on: event.on });
      case 'audio':
        return this.control(event, 'audio', { mode: event.mode });
      case 'leave':
        return this.control(event, 'leave', {});
    }
  }

  /** Keeps a task for stop(); the returned promise never rejects. */
  private track<T>(task: Promise<T>): Promise<T | undefined> {
    const safe = task.catch((err: unknown) => {
      if (!(err instanceof Stopped)) this.error('driver', err);
      return undefined;
    });
    const done = safe.then(() => undefined);
    this.tasks.add(done);
    void done.then(() => this.tasks.delete(done));
    return safe;
  }

  /** Runs `fn` in one of the concurrency slots; throws Stopped once the driver stops. */
  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      this.counters.queued++;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.counters.queued--;
    }
    if (this.stopped) throw new Stopped();
    this.active++;
    this.counters.inFlight = this.active;
    try {
      return await fn();
    } finally {
      this.active--;
      this.counters.inFlight = this.active;
      this.waiting.shift()?.();
    }
  }

  // -------------------------------------------------------------------- the calls

  private async create(event: CreateEvent): Promise<boolean> {
    const params: Array<[string, string]> = [
      ['name', event.name],
      ['meetingID', event.meeting],
      ['record', 'false'],
      // Size hints for placement and policy; a plain BBB server just keeps meta_ parameters.
      ['meta_amphi-expected-participants', String(event.size)],
      ['meta_amphi-expected-cameras', String(event.expectedCameras)],
      ['meta_bbb-origin', 'amphi-demo'],
    ];
    if (event.maxParticipants > 0) params.push(['maxParticipants', String(event.maxParticipants)]);
    for (const [key, value] of Object.entries(this.createParams)) params.push([key, value]);
    try {
      await this.slot(() => {
        // Counted when sent: a create still waiting for a slot when the driver stops never was.
        this.counters.creates++;
        this.countRequest(true);
        return this.client.create(params);
      });
      this.counters.created++;
      return true;
    } catch (err) {
      if (err instanceof Stopped) return false;
      if (err instanceof BbbClientError && err.kind === 'failed' && err.messageKey) {
        bump(this.counters.createFailed, err.messageKey);
      } else {
        this.error('create', err);
      }
      return false;
    }
  }

  private async end(event: EndEvent): Promise<void> {
    if (!(await this.meetingReady.get(event.meeting))) {
      this.counters.skipped++;
      return;
    }
    try {
      await this.slot(() => {
        this.countRequest(true);
        return this.client.end(event.meeting);
      });
      this.counters.ended++;
    } catch (err) {
      if (err instanceof Stopped) return;
      // Already gone: everybody left and BBB expired it first.
      if (err instanceof BbbClientError && err.kind === 'failed' && err.messageKey === 'notFound') this.counters.gone++;
      else this.error('end', err);
    }
    // The end took every user out: their sessions are over.
    for (const user of this.meetingUsers.get(event.meeting) ?? []) this.sessions.delete(user);
    this.meetingUsers.delete(event.meeting);
  }

  private async join(event: JoinEvent): Promise<void> {
    if (!(await this.meetingReady.get(event.meeting))) {
      this.counters.skipped++;
      return;
    }
    await this.slot(async () => {
      this.counters.joins++;
      const lag = Math.max(0, Math.round(this.now() - this.playStart - this.realOffset(event.at)));
      this.counters.joinLagMs = lag;
      this.counters.maxJoinLagMs = Math.max(this.counters.maxJoinLagMs, lag);
      let url = this.client.joinUrl([
        ['fullName', event.fullName],
        ['meetingID', event.meeting],
        ['role', event.role],
        ['userID', event.user],
      ]);
      for (let hop = 0; hop <= this.maxRedirects; hop++) {
        const answer = await this.get(url, 'join');
        if (!answer) return;
        if (answer.status < 300 || answer.status > 399 || answer.location === undefined) {
          this.error('join', answerProblem(answer));
          return;
        }
        const next = new URL(answer.location, url);
        const errors = next.searchParams.get(ERRORS_PARAM);
        if (errors !== null) {
          bump(this.counters.refused, errorKey(errors));
          return;
        }
        if (next.pathname === CLIENT_JOIN_PATH || next.pathname === `${CLIENT_JOIN_PATH}/`) {
          const token = next.searchParams.get('sessionToken');
          if (!token) {
            this.error('join', 'client redirect without a sessionToken');
            return;
          }
          this.counters.joined++;
          await this.enter(event, next, token);
          return;
        }
        url = next.href;
      }
      this.error('join', `more than ${this.maxRedirects} redirects`);
    });
  }

  /** The browser loads the client: the user is in (or ejected, e.g. the meeting filled up meanwhile). */
  private async enter(event: JoinEvent, clientUrl: URL, token: string): Promise<void> {
    const answer = await this.get(clientUrl.href, 'enter');
    if (!answer) return;
    if (answer.status === 200) {
      this.counters.entered++;
      this.sessions.set(event.user, { base: clientUrl.origin, token, meeting: event.meeting });
      let users = this.meetingUsers.get(event.meeting);
      if (!users) this.meetingUsers.set(event.meeting, (users = new Set()));
      users.add(event.user);
      return;
    }
    const key = jsonMessageKey(answer.body);
    if (key !== undefined && answer.status >= 400 && answer.status < 500) bump(this.counters.refused, key);
    else this.error('enter', answerProblem(answer));
  }

  private async control(event: CameraEvent | AudioEvent | LeaveEvent, action: 'camera' | 'audio' | 'leave', body: object): Promise<void> {
    const session = this.sessions.get(event.user);
    if (!session) {
      this.counters.skipped++;
      return;
    }
    const url = `${session.base}/sim/sessions/${encodeURIComponent(session.token)}/${action}`;
    const answer = await this.slot(() => this.send(url, 'POST', JSON.stringify(body), action));
    if (!answer) return;
    if (answer.status === 404) {
      this.counters.gone++;
      this.forget(event.user);
      return;
    }
    if (answer.status === 409 && action === 'camera') {
      bump(this.counters.cameraRefused, jsonField(answer.body, 'refused') ?? 'refused');
      return;
    }
    if (answer.status !== 200) {
      this.error(action, answerProblem(answer));
      return;
    }
    if (event.kind === 'camera') {
      if (event.on) this.counters.cameraOn++;
      else this.counters.cameraOff++;
    } else if (event.kind === 'audio') {
      this.counters.audioChanges++;
    } else {
      this.counters.left++;
      this.forget(event.user);
    }
  }

  private forget(user: string): void {
    const session = this.sessions.get(user);
    if (!session) return;
    this.sessions.delete(user);
    this.meetingUsers.get(session.meeting)?.delete(user);
  }

  // -------------------------------------------------------------------- HTTP

  /** A GET that does not follow redirects; undefined (and counted) on a transport failure. */
  private get(url: string, call: string): Promise<HttpAnswer | undefined> {
    return this.send(url, 'GET', undefined, call);
  }

  private async send(url: string, method: 'GET' | 'POST', body: string | undefined, call: string): Promise<HttpAnswer | undefined> {
    this.countRequest(url.startsWith(this.gatewayOrigin));
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        method,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(body !== undefined && { body, headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.body.text();
      return { status: res.statusCode, location: header(res.headers, 'location'), body: text };
    } catch (err) {
      this.error(call, signal.aborted ? `timeout after ${this.timeoutMs} ms` : err);
      return undefined;
    }
  }

  private countRequest(gateway: boolean): void {
    this.counters.requests++;
    if (gateway) this.counters.gatewayRequests++;
  }

  private error(call: string, err: unknown): void {
    const reason = err instanceof BbbClientError ? (err.messageKey ?? err.kind) : err instanceof Error ? shortError(err) : String(err);
    bump(this.counters.errors, `${call}: ${reason}`);
    this.counters.lastError = `${call}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function shortError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code ?? err.message.slice(0, 60);
}

function answerProblem(answer: HttpAnswer): string {
  const key = /<messageKey>([^<]*)<\/messageKey>/.exec(answer.body)?.[1] ?? jsonMessageKey(answer.body);
  return key ? `HTTP ${answer.status} ${key}` : `HTTP ${answer.status}`;
}

/** The first key of BBB's `errors=[{"message":…,"key":…}]` join-error parameter. */
export function errorKey(errors: string): string {
  try {
    const parsed = JSON.parse(errors) as unknown;
    if (Array.isArray(parsed)) {
      const first = parsed[0] as { key?: unknown } | undefined;
      if (first && typeof first.key === 'string' && first.key !== '') return first.key;
    }
  } catch {
    // Not JSON: fall through to a generic key, the refusal still counts.
  }
  return 'unknown';
}

function jsonMessageKey(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { response?: { messageKey?: unknown } };
    const key = parsed.response?.messageKey;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

function jsonField(body: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(body) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
