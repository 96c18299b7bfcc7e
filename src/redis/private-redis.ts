// Starts a throw-away redis-server on a free loopback port, so that a newcomer (or a test run)
// needs nothing beyond the binary: no config, no persistence, no shared state with any other
// Redis on the machine.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH; install it with `apt-get install redis-server` ' +
        '(Debian/Ubuntu), or set REDIS_URL to an existing Redis',
    );
    this.name = 'RedisNotInstalledError';
  }
}

export interface StartPrivateRedisOptions {
  /** Receives the launcher's own notices (e.g. the server dying unexpectedly). */
  log?: (line: string) => void;
  /** Program to run; a bare name is looked up on `env.PATH`. Default `redis-server`. */
  binary?: string;
  /** Environment of the child, and the PATH used for the lookup. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first PONG. Default 5000 ms. */
  startTimeoutMs?: number;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** The server's working directory (removed by stop). */
  dir: string;
  /** Idempotent: SIGTERM, then SIGKILL if it does not exit in time; removes `dir`. */
  stop(): Promise<void>;
}

const OUTPUT_KEEP = 8 * 1024; // enough of redis's log to explain a failed start
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3; // another process may take the port between our probe and redis's bind

export async function startPrivateRedis(opts: StartPrivateRedisOptions = {}): Promise<PrivateRedis> {
  const env = opts.env ?? process.env;
  const binary = resolveBinary(opts.binary ?? 'redis-server', env);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(binary, env, opts);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(binary: string, env: NodeJS.ProcessEnv, opts: StartPrivateRedisOptions): Promise<PrivateRedis> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.startTimeoutMs ?? 5_000;
  const port = await findFreePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'amphi-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--dir', dir,
    '--loglevel', 'warning',
  ];

  // Not detached: it stays in our process group, so a terminal Ctrl-C reaches it too.
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  // Always drain the pipes: a full pipe would block redis.
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' rather than 'exit': it comes after the pipes are drained, so `output` is complete.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve)); // 'on': a later error must not crash us

  // If the parent exits without stop() (crash, process.exit), take the server and its directory
  // along. 'exit' handlers must be synchronous, hence kill() and rmSync.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let stopping = false;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      await terminate(child, exited);
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  let settled = false; // ends the probe loop once the start-up race is decided
  const outcome = await Promise.race([
    waitForPong(),
    exited.then((e) => ({ exited: e })),
    spawnError.then((error) => ({ error })),
  ]);
  settled = true;

  if (outcome !== 'ready') {
    await stop();
    if (outcome === 'timeout') {
      throw new Error(`${binary} did not answer PING on 127.0.0.1:${port} within ${timeoutMs} ms${withOutput(output)}`);
    }
    if ('error' in outcome) {
      if ((outcome.error as NodeJS.ErrnoException).code === 'ENOENT') throw new RedisNotInstalledError();
      throw new Error(`could not start ${binary}: ${outcome.error.message}`);
    }
    if (/address already in use/i.test(output)) throw new PortTakenError(`port ${port} was taken`);
    const how = outcome.exited.signal ? `signal ${outcome.exited.signal}` : `code ${outcome.exited.code}`;
    throw new Error(`${binary} exited with ${how} before answering PING${withOutput(output)}`);
  }

  void exited.then(({ code, signal }) => {
    if (!stopping) log(`amphi: private redis-server on port ${port} exited unexpectedly (code ${code}, signal ${signal})`);
  });

  return { url: `redis://127.0.0.1:${port}`, port, dir, stop };

  async function waitForPong(): Promise<'ready' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    while (!settled && Date.now() < deadline) {
      // Checking the pid proves the answer came from our child, not from a process that took the
      // port between our probe and redis's bind.
      if ((await probePid(port, Math.max(50, deadline - Date.now()))) === child.pid) return 'ready';
      await sleep(25);
    }
    return 'timeout';
  }
}

/** SIGTERM, wait, then SIGKILL: redis with no persistence exits at once on SIGTERM. */
async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Resolves a bare name against `env.PATH` so a missing binary fails before anything is spawned. */
function resolveBinary(binary: string, env: NodeJS.ProcessEnv): string {
  const candidates = binary.includes('/')
    ? [binary]
    : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, binary));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new RedisNotInstalledError();
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not obtain a free port'))));
    });
  });
}

/**
 * Sends PING and INFO server over raw RESP (no client library, so no reconnect logic during
 * start-up) and returns the answering server's process_id, or undefined if it is not ready.
 */
function probePid(port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(Math.min(timeoutMs, 1_000), () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.startsWith('+PONG\r\n')) {
        if (reply.includes('\r\n')) done(undefined); // e.g. -LOADING: not ready yet
        return;
      }
      const pid = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (pid?.[1]) done(Number(pid[1]));
      else if (/^\+PONG\r\n-/.test(reply)) done(undefined);
    });
  });
}

function withOutput(output: string): string {
  const text = output.trim();
  return text ? `; its output:\n${text}` : ' (it printed nothing)';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
