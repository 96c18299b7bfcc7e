// A real Redis Sentinel group on 127.0.0.1 for failover tests: a primary, one replica and three
// sentinels, each a redis-server process on a free port (never 6379), its files in a temp dir.
// Every process is SIGKILLed by stop(), and by the test process's exit should a test crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRedis } from '../../src/redis/connect.js';

export const MASTER = 'mymaster';

export interface SentinelGroup {
  primaryPort: number;
  replicaPort: number;
  sentinelPorts: number[];
  /** REDIS_SENTINELS for Amphi. */
  sentinels: string;
  /** SIGKILL of the primary, as a crash. */
  killPrimary(): void;
  /** Starts the killed primary again, empty, on its port, as a supervisor would: the sentinels make it a replica. */
  restartPrimary(): void;
  /** The port the sentinels name as the master now. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/** A free loopback port, never the default Redis port (someone's Redis may want it). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (port !== 6379) return port;
  }
}

/** One command on a fresh connection that never retries; undefined when it fails. */
export async function ask(port: number, ...args: string[]): Promise<unknown> {
  const client = createRedis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableReadyCheck: false, commandTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function startSentinelGroup(): Promise<SentinelGroup> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'amphi-sentinel-'));
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const run = (args: string[]): ChildProcess => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(child);
    return child;
  };
  // No persistence: the replica holds the only copy, as the failover must show.
  const data = (name: string): string[] => ['--dir', dir, '--dbfilename', `${name}.rdb`, '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--daemonize', 'no'];

  const ports: number[] = [];
  while (ports.length < 5) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const [primaryPort, replicaPort, ...sentinelPorts] = ports as [number, number, ...number[]];
  const primaryArgs = ['--port', String(primaryPort), ...data('primary')];
  let primary = run(primaryArgs);
  run(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort), ...data('replica')]);
  for (const port of sentinelPorts) {
    const conf = path.join(dir, `sentinel-${port}.conf`);
    // Sentinel rewrites its file (what it learns of the group), so each has its own.
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'sentinel resolve-hostnames no',
        `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 5000`,
        `sentinel parallel-syncs ${MASTER} 1`,
        '',
      ].join('\n'),
    );
    run([conf, '--sentinel']);
  }

  const group: SentinelGroup = {
    primaryPort,
    replicaPort,
    sentinelPorts,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    killPrimary: () => primary.kill('SIGKILL'),
    restartPrimary: () => {
      primary = run(primaryArgs);
    },
    masterPort: async () => Number(((await ask(sentinelPorts[0]!, 'SENTINEL', 'get-master-addr-by-name', MASTER)) as string[] | undefined)?.[1]),
    stop: async () => {
      killAll();
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
      process.removeListener('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Ready when the replica is in sync and every sentinel knows the replica and the two
    // other sentinels (they find each other through the primary every 2 s): a failover then
    // has its quorum and its majority.
    await until('the replica to sync', 15_000, async () => /master_link_status:up/.test(String(await ask(replicaPort, 'INFO', 'replication'))));
    await until('the sentinels to know the group', 20_000, async () => {
      for (const port of sentinelPorts) {
        const replicas = (await ask(port, 'SENTINEL', 'replicas', MASTER)) as unknown[] | undefined;
        const others = (await ask(port, 'SENTINEL', 'sentinels', MASTER)) as unknown[] | undefined;
        if (replicas?.length !== 1 || others?.length !== 2) return false;
      }
      return true;
    });
  } catch (err) {
    await group.stop();
    throw err;
  }
  return group;
}
