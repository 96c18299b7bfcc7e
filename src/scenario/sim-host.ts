// The scenario's simulated BBB servers, in a process of their own. Hundreds of servers answering
// the poller, the driver's joins and their own timers are most of the scenario's work; in the
// process that also runs the scaler and plays the traffic, they starved both (a 30,000-user
// morning stalled at 8:00). Here they have an event loop to themselves, and the scenario talks
// to this process over Node's IPC channel: start a server, stop one, read every server's own
// figures (what the grade is computed from).
//
// This file is both sides: SimHostClient forks it, and run as the child (`node sim-host.js`)
// it serves the requests.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SimServer } from '../simulator/index.js';
import { stopChild } from './stop-child.js';
import { ScenarioClock } from './time.js';
import type { SpeedSegment } from './time.js';

/** What a simulated server says of itself, as the grade reads it. */
export interface HostedServerFigures {
  url: string;
  /** Percent of all its cores. */
  load: number;
  participants: number;
  cores: number;
  /** Meetings running with people inside (what deleting the server would interrupt). */
  occupiedMeetings: number;
}

type Request =
  | { op: 'clock'; wallStart: number }
  | { op: 'start'; secret: string; cores: number }
  | { op: 'stop'; url: string }
  | { op: 'read'; url?: string };

interface Envelope {
  id: number;
  request: Request;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface SimHostOptions {
  /** The simulated instant the morning starts at (epoch ms), and the scenario clock's speeds. */
  simStart: number;
  profile: readonly SpeedSegment[];
  /** Where the child's stderr goes (its own errors). */
  log: (text: string) => void;
}

/** The scenario's side: forks the host and asks it. */
export class SimHostClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private exited: Error | undefined;

  constructor(opts: SimHostOptions) {
    this.child = fork(fileURLToPath(import.meta.url), [String(opts.simStart), JSON.stringify(opts.profile)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (d: Buffer) => opts.log(d.toString('utf8')));
    this.child.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(reply.error));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`the simulated servers' process exited (${signal ?? `code ${code}`})`);
      for (const w of this.pending.values()) w.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Pins the simulated servers' clock: the morning starts at wall instant `wallStart`. */
  startClock(wallStart: number): Promise<void> {
    return this.ask({ op: 'clock', wallStart }) as Promise<void>;
  }

  /** Starts a server; answers its BBB API URL. */
  start(secret: string, cores: number): Promise<string> {
    return this.ask({ op: 'start', secret, cores }) as Promise<string>;
  }

  stop(url: string): Promise<void> {
    return this.ask({ op: 'stop', url }) as Promise<void>;
  }

  /** Every server's figures, or only the one at `url` (none when it is not running). */
  read(url?: string): Promise<HostedServerFigures[]> {
    return this.ask(url === undefined ? { op: 'read' } : { op: 'read', url }) as Promise<HostedServerFigures[]>;
  }

  close(): Promise<void> {
    return stopChild(this.child);
  }

  private ask(request: Request): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, request } satisfies Envelope, (err) => {
        if (err && this.pending.delete(id)) reject(err);
      });
    });
  }
}

/** The child's side: the servers, by API URL, on the scenario's clock. */
async function serve(simStart: number, profile: readonly SpeedSegment[]): Promise<void> {
  const clock = new ScenarioClock(simStart, profile);
  const servers = new Map<string, SimServer>();
  const handle = async (r: Request): Promise<unknown> => {
    switch (r.op) {
      case 'clock':
        clock.start(r.wallStart);
        return null;
      case 'start': {
        const server = await SimServer.start({ cores: r.cores, sweepIntervalMs: 1000, model: { now: () => clock.at(Date.now()) }, host: '127.0.0.1', port: 0, secret: r.secret });
        servers.set(server.apiUrl, server);
        return server.apiUrl;
      }
      case 'stop': {
        const server = servers.get(r.url);
        servers.delete(r.url);
        await server?.close();
        return null;
      }
      case 'read':
        return [...servers.values()].filter((s) => r.url === undefined || s.apiUrl === r.url).map((s): HostedServerFigures => {
          const t = s.totals();
          const occupiedMeetings = s.state(false).meetings.filter((m) => !m.ended && m.participants > 0).length;
          return { url: s.apiUrl, load: t.load, participants: t.participants, cores: t.cores, occupiedMeetings };
        });
    }
  };
  process.on('message', (m: Envelope) => {
    handle(m.request).then(
      (result) => process.send?.({ id: m.id, ok: true, result } satisfies Reply),
      (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
    );
  });
  const stop = () => void Promise.all([...servers.values()].map((s) => s.close())).finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  // The scenario gone (killed, crashed): nothing here is of use to anyone.
  process.once('disconnect', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void serve(Number(process.argv[2]), JSON.parse(process.argv[3]!) as SpeedSegment[]);
}
