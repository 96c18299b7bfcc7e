import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimServer } from '../../src/simulator/sim-server.js';
import { bbbGet, http, json, postJson, xmlValue } from '../helpers/sim-http.js';

let sim: SimServer;
let meetingID: string;

beforeAll(async () => {
  sim = await SimServer.start({ sweepIntervalMs: 0 });
  meetingID = 'fault-meeting';
  const r = await bbbGet(sim, 'create', { name: 'Room', meetingID });
  expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
});

afterAll(async () => {
  await sim?.close();
});

const errorCode = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
};

/** Polls a condition, a bounded number of times. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('fault injection', () => {
  it('down: connections are refused, then recovery listens on the same port with the state kept', async () => {
    const port = sim.port;
    await sim.setFault('down');
    expect(sim.fault.mode).toBe('down');
    expect(await errorCode(bbbGet(sim, 'getMeetings'))).toBe('ECONNREFUSED');
    // Down means down: the control API on that port is gone too.
    expect(await errorCode(http(`${sim.baseUrl}/sim/state`))).toBe('ECONNREFUSED');

    await sim.setFault('none');
    expect(sim.port).toBe(port);
    const r = await bbbGet(sim, 'getMeetingInfo', { meetingID });
    expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
  });

  it('serialises rapid switches: down/up/down/up without waiting ends up listening on the same port', async () => {
    const port = sim.port;
    await Promise.all([sim.setFault('down'), sim.setFault('none'), sim.setFault('down'), sim.setFault('none')]);
    expect(sim.port).toBe(port);
    expect(sim.fault.mode).toBe('none');
    expect((await bbbGet(sim, 'getMeetings')).status).toBe(200);
  });

  it('down cuts open keep-alive connections too', async () => {
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = request(`${sim.baseUrl}/sim/state?users=false`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await get()).toBe(200);
      await sim.setFault('down');
      expect(await errorCode(get())).toMatch(/ECONNREFUSED|ECONNRESET/);
    } finally {
      agent.destroy();
      await sim.setFault('none');
    }
  });

  it('error500: the API answers HTTP 500; the control API does not', async () => {
    await sim.setFault('error500');
    try {
      const r = await bbbGet(sim, 'getMeetings');
      expect(r.status).toBe(500);
      expect(r.body).toContain('500 Internal Server Error');
      expect((await http(`${sim.baseUrl}/html5client/join?sessionToken=x`)).status).toBe(500);
      expect((await http(`${sim.baseUrl}/sim/state`)).status).toBe(200);
      expect((await http(`${sim.baseUrl}/metrics`)).body).toContain('bbb_api_up 0');
    } finally {
      await sim.setFault('none');
    }
    expect((await bbbGet(sim, 'getMeetings')).status).toBe(200);
  });

  it('malformed: HTTP 200 XML cut short, after processing the request', async () => {
    await sim.setFault('malformed');
    try {
      const r = await bbbGet(sim, 'create', { name: 'Room', meetingID: 'made-while-malformed' });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/xml;charset=utf-8');
      expect(r.body.startsWith('<response>')).toBe(true);
      expect(r.body).not.toContain('</response>');
      const join = await bbbGet(sim, 'join', { meetingID, fullName: 'Jo', role: 'VIEWER' });
      expect(join.status).toBe(200);
      expect(join.body).not.toContain('</response>');
    } finally {
      await sim.setFault('none');
    }
    // The create did happen: the server broke only its answer.
    expect(xmlValue((await bbbGet(sim, 'getMeetingInfo', { meetingID: 'made-while-malformed' })).body, 'returncode')).toBe('SUCCESS');
  });

  it('hang: the client times out; recovery destroys the held sockets; the control API still answers', async () => {
    await sim.setFault('hang');
    const timedOut = await errorCode(http(`${sim.apiUrl}/getMeetings`, { timeoutMs: 200 }));
    expect(timedOut).toBe('ETIMEDOUT');
    expect((await http(`${sim.baseUrl}/sim/state?users=false`)).status).toBe(200);
    // A request left waiting is cut (not left hanging forever) when the fault is lifted.
    const waiting = errorCode(http(`${sim.apiUrl}/getMeetings`));
    await until(() => sim.heldRequests === 1);
    await sim.setFault('none');
    expect(await waiting).toBe('ECONNRESET');
    expect((await bbbGet(sim, 'getMeetings')).status).toBe(200);
  });

  it('slow: answers after the added latency, control API unaffected', async () => {
    await sim.setFault('slow', 300);
    try {
      expect(sim.fault).toEqual({ mode: 'slow', latencyMs: 300 });
      const started = Date.now();
      const r = await bbbGet(sim, 'getMeetings');
      expect(r.status).toBe(200);
      expect(xmlValue(r.body, 'returncode')).toBe('SUCCESS');
      // A lower bound only: timers never fire early.
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(await errorCode(http(`${sim.apiUrl}/getMeetings`, { timeoutMs: 100 }))).toBe('ETIMEDOUT');
      expect((await http(`${sim.baseUrl}/metrics`)).body).toContain('bbb_sim_fault{mode="slow"} 1');
    } finally {
      await sim.setFault('none');
    }
  });

  it('switches faults through its own control API (except back from down)', async () => {
    const r = await postJson(`${sim.baseUrl}/sim/fault`, { mode: 'error500' });
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ fault: { mode: 'error500', latencyMs: 0 } });
    expect((await bbbGet(sim, 'getMeetings')).status).toBe(500);
    expect((await postJson(`${sim.baseUrl}/sim/fault`, { mode: 'none' })).status).toBe(200);
    expect((await bbbGet(sim, 'getMeetings')).status).toBe(200);
    expect((await postJson(`${sim.baseUrl}/sim/fault`, { mode: 'broken' })).status).toBe(400);
    expect((await postJson(`${sim.baseUrl}/sim/fault`, { mode: 'slow', latencyMs: -1 })).status).toBe(400);
  });

  it('closes cleanly while requests hang', async () => {
    const other = await SimServer.start({ sweepIntervalMs: 0 });
    await other.setFault('hang');
    const waiting = errorCode(http(`${other.apiUrl}/getMeetings`));
    await until(() => other.heldRequests === 1);
    await other.close();
    expect(await waiting).toBe('ECONNRESET');
    expect(await errorCode(http(`${other.apiUrl}/getMeetings`))).toBe('ECONNREFUSED');
    await expect(other.setFault('none')).rejects.toThrow(/closed/);
  });
});
