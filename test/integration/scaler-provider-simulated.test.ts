// The simulated provider: boots real simulated BBB servers on 127.0.0.1 after a delay played
// on a manual clock, fails a seeded share of them, and stops them on delete.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bbbApiAnswers } from '../../scaler/providers/provider.js';
import type { ProviderServerStatus } from '../../scaler/providers/provider.js';
import { SimulatedProvider } from '../../scaler/providers/simulated.js';
import type { ProviderClock, SimulatedProviderOptions } from '../../scaler/providers/simulated.js';
import { SimCluster } from '../../src/simulator/index.js';

/** Time moves only when the test says so. */
class ManualClock implements ProviderClock {
  private t = 1_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    this.t += ms;
    const due = [...this.timers.entries()].filter(([, x]) => x.at <= this.t).sort(([, a], [, b]) => a.at - b.at);
    for (const [id, x] of due) {
      this.timers.delete(id);
      x.fn();
    }
  }
}

const MIN = 60_000;
const open: { close(): Promise<void> }[] = [];

function make(opts: SimulatedProviderOptions = {}): { provider: SimulatedProvider; clock: ManualClock } {
  const clock = new ManualClock();
  const provider = new SimulatedProvider({ bootDelayMs: 6 * MIN, clock, ...opts });
  open.push(provider);
  return { provider, clock };
}

const settle = (p: SimulatedProvider, id: string, want: ProviderServerStatus) => vi.waitFor(async () => expect(await p.status(id)).toBe(want), { timeout: 5000 });

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

describe('simulated provider', () => {
  it('boots a BBB server that answers its API once the delay is over', async () => {
    const { provider, clock } = make();
    const created = await provider.create({ sizeClass: 'large', idempotencyKey: 'job-1' });
    expect(created).toMatchObject({ id: 'sim-1', sizeClass: 'large', status: 'booting', idempotencyKey: 'job-1' });
    expect(created.tags).toMatchObject({ 'amphi-managed': '', 'amphi-key': 'job-1', 'amphi-size': 'large' });
    expect(created.apiUrl).toBeUndefined();

    clock.advance(6 * MIN - 1);
    expect(await provider.status(created.id)).toBe('booting');
    expect((await provider.get(created.id))?.apiUrl).toBeUndefined();
    clock.advance(1);
    await settle(provider, created.id, 'running');

    const running = (await provider.get(created.id))!;
    expect(running.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/bigbluebutton\/api$/);
    expect(await bbbApiAnswers(running)).toBe(true);
    expect(await bbbApiAnswers({ ...running, secret: 'wrong' })).toBe(false);
  });

  it('answers the same server for the same key, and lists each server once', async () => {
    const { provider, clock } = make();
    const a = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-2' });
    const b = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-2' });
    const c = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-3' });
    expect(b.id).toBe(a.id);
    expect(b.secret).toBe(a.secret);
    expect(c.id).not.toBe(a.id);
    expect(clock.pending).toBe(2);
    expect((await provider.list()).map((s) => s.id).sort()).toEqual([a.id, c.id].sort());
  });

  it('fails a seeded share of the boots, the same ones for the same seed', async () => {
    const run = async (seed: number) => {
      const { provider, clock } = make({ failureRate: 0.3, seed, bootJitterMs: MIN });
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await provider.create({ sizeClass: 'small', idempotencyKey: `k${i}` })).id);
      clock.advance(7 * MIN);
      const statuses = await Promise.all(ids.map(async (id) => ((await provider.status(id)) === 'failed' ? 'F' : 'ok')));
      await vi.waitFor(async () => expect((await provider.list()).every((s) => s.status !== 'booting')).toBe(true), { timeout: 10_000 });
      return statuses.join(' ');
    };
    const first = await run(7);
    expect(await run(7)).toBe(first);
    const failed = first.split(' ').filter((x) => x === 'F').length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(20);
  });

  it('a failed boot reads failed once its delay is over, never runs, and can be deleted', async () => {
    const { provider, clock } = make({ failureRate: 1 });
    const s = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-4' });
    clock.advance(5 * MIN);
    expect(await provider.status(s.id)).toBe('booting');
    clock.advance(MIN);
    expect(await provider.status(s.id)).toBe('failed');
    expect((await provider.get(s.id))?.apiUrl).toBeUndefined();
    await provider.delete(s.id);
    expect(await provider.status(s.id)).toBe('gone');
    expect(await provider.list()).toEqual([]);
  });

  it('delete stops the server: its API no longer answers', async () => {
    const { provider, clock } = make({ bootDelayMs: 0 });
    const s = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-5' });
    clock.advance(0);
    await settle(provider, s.id, 'running');
    const running = (await provider.get(s.id))!;
    expect(await bbbApiAnswers(running)).toBe(true);
    await provider.delete(s.id);
    expect(await provider.status(s.id)).toBe('gone');
    expect(await provider.get(s.id)).toBeUndefined();
    expect(await bbbApiAnswers(running, 1000)).toBe(false);
    await provider.delete(s.id); // twice: no error
    // The key is free again: a new create boots a new server.
    expect((await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-5' })).id).not.toBe(s.id);
  });

  it('a server deleted while it boots never starts', async () => {
    const { provider, clock } = make();
    const s = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-6' });
    await provider.delete(s.id);
    expect(clock.pending).toBe(0);
    clock.advance(10 * MIN);
    expect(await provider.status(s.id)).toBe('gone');
    expect(await provider.list()).toEqual([]);
  });

  it('adds its servers to a running SimCluster when given one', async () => {
    const cluster = await SimCluster.start({ servers: 1, controlPort: false, server: { sweepIntervalMs: 0 } });
    open.push(cluster);
    const { provider, clock } = make({ cluster, bootDelayMs: MIN });
    const s = await provider.create({ sizeClass: 'standard', idempotencyKey: 'job-7' });
    clock.advance(MIN);
    await settle(provider, s.id, 'running');
    const running = (await provider.get(s.id))!;
    expect(cluster.size).toBe(2);
    expect(cluster.endpoints()).toContainEqual({ url: running.apiUrl, secret: running.secret });
    await provider.delete(s.id);
    expect(cluster.size).toBe(1);
  });

  it('refuses creates once closed, and checks its options', async () => {
    const { provider } = make();
    await provider.close();
    await expect(provider.create({ sizeClass: 'standard', idempotencyKey: 'job-8' })).rejects.toThrow(/closed/);
    expect(() => new SimulatedProvider({ failureRate: 1.5 })).toThrow(/failureRate/);
  });
});
