import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simCommand } from '../../src/cli/commands/sim.js';
import { SimCluster } from '../../src/simulator/sim-cluster.js';
import type { SimServerEntry } from '../../src/simulator/sim-cluster.js';
import { bbbGet, http, json, postJson, xmlValue } from '../helpers/sim-http.js';

let cluster: SimCluster;

beforeAll(async () => {
  cluster = await SimCluster.start({ servers: 3, server: { sweepIntervalMs: 0 } });
});

afterAll(async () => {
  await cluster?.close();
});

const refused = async (url: string): Promise<boolean> => {
  try {
    await http(url);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
};

/** A port that was free a moment ago (for the base-port option). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('SimCluster', () => {
  it('starts N servers with their own ports and secrets', async () => {
    const list = cluster.list();
    expect(list.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(new Set(list.map((e) => e.url)).size).toBe(3);
    expect(new Set(list.map((e) => e.secret)).size).toBe(3);
    for (const e of list) {
      expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/bigbluebutton\/api$/);
      expect(e.secret).toMatch(/^[0-9a-f]{40}$/);
      const r = await bbbGet({ apiUrl: e.url, secret: e.secret }, 'getMeetings');
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
    }
    expect(cluster.endpoints()).toEqual(list.map(({ url, secret }) => ({ url, secret })));
  });

  it('lists servers with load, meetings and participants on the control API', async () => {
    const server = cluster.server(1)!;
    await bbbGet(server, 'create', { name: 'Room', meetingID: 'listed' });
    server.addUsers('listed', { count: 4, cameras: 1 });
    const r = await http(`${cluster.controlUrl}/sim/servers`);
    expect(r.status).toBe(200);
    const list = json<SimServerEntry[]>(r);
    expect(list).toHaveLength(3);
    expect(list[1]).toMatchObject({ index: 1, url: server.apiUrl, secret: server.secret, meetings: 1, participants: 4, videos: 4 });
    expect(list[1]?.fault).toEqual({ mode: 'none', latencyMs: 0 });
    expect(list[1]?.load).toBeGreaterThan(list[0]?.load ?? 0);
    const one = json<{ meetings: { meetingID: string }[] }>(await http(`${cluster.controlUrl}/sim/servers/1`));
    expect(one.meetings.map((m) => m.meetingID)).toEqual(['listed']);
  });

  it('switches a server down and back up from the cluster control API', async () => {
    const target = cluster.server(2)!;
    const down = await postJson(`${cluster.controlUrl}/sim/servers/2/fault`, { mode: 'down' });
    expect(down.status).toBe(200);
    expect(json<SimServerEntry>(down).fault.mode).toBe('down');
    expect(await refused(`${target.apiUrl}/getMeetings`)).toBe(true);
    expect((await bbbGet(cluster.server(0)!, 'getMeetings')).status).toBe(200);
    const up = await postJson(`${cluster.controlUrl}/sim/servers/2/fault`, { mode: 'none' });
    expect(json<SimServerEntry>(up).url).toBe(target.apiUrl);
    expect((await bbbGet(target, 'getMeetings')).status).toBe(200);
    expect((await postJson(`${cluster.controlUrl}/sim/servers/2/fault`, { mode: 'sideways' })).status).toBe(400);
    expect((await postJson(`${cluster.controlUrl}/sim/servers/99/fault`, { mode: 'none' })).status).toBe(404);
  });

  it('adds and removes servers at run time, keeping indexes stable', async () => {
    const added = await postJson(`${cluster.controlUrl}/sim/servers`, {});
    expect(added.status).toBe(201);
    const entry = json<SimServerEntry>(added);
    expect(entry.index).toBe(3);
    expect((await bbbGet({ apiUrl: entry.url, secret: entry.secret }, 'getMeetings')).status).toBe(200);

    const first = cluster.server(0)!;
    const del = await http(`${cluster.controlUrl}/sim/servers/0`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await refused(`${first.apiUrl}/getMeetings`)).toBe(true);
    expect(cluster.list().map((e) => e.index)).toEqual([1, 2, 3]);
    expect((await http(`${cluster.controlUrl}/sim/servers/0`, { method: 'DELETE' })).status).toBe(404);

    const { index, server } = await cluster.addServer({ secret: 'chosen-secret-123' });
    expect(index).toBe(4);
    expect(server.secret).toBe('chosen-secret-123');
    expect(await cluster.removeServer(index)).toBe(true);
    expect(await cluster.removeServer(index)).toBe(false);
  });

  it('exposes every server in one /metrics scrape with a server label', async () => {
    const r = await http(`${cluster.controlUrl}/metrics`);
    expect(r.status).toBe(200);
    for (const { index } of cluster.list()) expect(r.body).toContain(`bbb_sim_cpu_percent{server="${index}"}`);
    expect(r.body).toContain('bbb_meetings_participants{server="1"} 4');
  });

  it('honours a base port and one shared secret', async () => {
    let other: SimCluster | undefined;
    // The base port is probed free first; a race with another process is retried a few times.
    for (let attempt = 0; attempt < 5 && !other; attempt++) {
      const base = await freePort();
      try {
        other = await SimCluster.start({ servers: 2, basePort: base, secret: 'shared-secret-xyz', controlPort: false, server: { sweepIntervalMs: 0 } });
        expect(other.list().map((e) => e.url)).toEqual([
          `http://127.0.0.1:${base}/bigbluebutton/api`,
          `http://127.0.0.1:${base + 1}/bigbluebutton/api`,
        ]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    try {
      expect(other).toBeDefined();
      expect(other!.controlUrl).toBeUndefined();
      expect(other!.list().map((e) => e.secret)).toEqual(['shared-secret-xyz', 'shared-secret-xyz']);
    } finally {
      await other?.close();
    }
  });
});

describe('amphi sim', () => {
  it('prints the servers as JSON on the first stdout line and stops on SIGTERM', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const before = new Set(process.listeners('SIGTERM'));
    const running = simCommand.run(['--servers', '2', '--json', '--secret', 'cli-secret-1'], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    // Bounded wait for the command to start and register its signal handler.
    for (let i = 0; i < 200 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const firstLine = out.join('').split('\n')[0] ?? '';
    const servers = JSON.parse(firstLine) as { url: string; secret: string }[];
    expect(servers).toHaveLength(2);
    for (const s of servers) {
      expect(Object.keys(s)).toEqual(['url', 'secret']);
      expect(s.secret).toBe('cli-secret-1');
      const r = await bbbGet({ apiUrl: s.url, secret: s.secret }, 'getMeetings');
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
    }
    expect(err.join('')).toMatch(/control {2}http:\/\/127\.0\.0\.1:\d+/);

    // Deliver SIGTERM to the command's own handler only (not to the test runner's).
    const added = process.listeners('SIGTERM').filter((l) => !before.has(l));
    expect(added).toHaveLength(1);
    for (const l of added) (l as (s: NodeJS.Signals) => void)('SIGTERM');
    expect(await running).toBe(0);
    expect(await refused(`${servers[0]!.url}/getMeetings`)).toBe(true);
  });

  it('rejects bad options', async () => {
    const io = { stdout: () => {}, stderr: () => {} };
    await expect(simCommand.run(['--servers', '0'], io)).rejects.toThrow(/--servers/);
    await expect(simCommand.run(['--servers', 'two'], io)).rejects.toThrow(/--servers/);
    await expect(simCommand.run(['--bogus'], io)).rejects.toMatchObject({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });
});
